"""Errors of the resources layer (all :class:`dms.errors.DMSError`, message + hint)."""

from __future__ import annotations

from dms.errors import DMSError, NotFound, ValidationError


class InsufficientResources(ValidationError):
    """A request (onboarding, commit, allocation) asks for more than there is."""

    code = "insufficient_resources"


class UnknownGPU(ValidationError):
    code = "unknown_gpu"


class NotOnboarded(DMSError):
    code = "not_onboarded"
    default_hint = "onboard first with `dms onboard --cpu N --ram SIZE --disk SIZE`"


class ResourcesInUse(DMSError):
    code = "resources_in_use"
    default_hint = "wait for the allocations to finish, or pass --force to offboard anyway"


class UnknownReservation(NotFound):
    code = "unknown_reservation"


__all__ = ["InsufficientResources", "NotOnboarded", "ResourcesInUse", "UnknownGPU",
           "UnknownReservation"]
