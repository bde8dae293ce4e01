"""Resource accounting: what is onboarded, committed (with expiry), allocated and free.

    free = onboarded - Σ committed (live) - Σ allocated

    commit(id, r, expiry_s) ──▶ commitments[id]  (expires: purged lazily and by purge())
    allocate(id)            ──▶ allocations[id]  (from the commitment, or directly with r)
    release(id)             ──▶ gone from either

State lives in the store: Record ``resources.onboarded`` (history kept), collections
``resources.commitments`` and ``resources.allocations``. Every check-and-set runs inside
``store.transaction()`` (both stores hold a lock for the transaction, SQLite adds
``BEGIN IMMEDIATE``), so two commits racing for the last core cannot both win, from
threads, trio tasks in threads, or two processes on one SQLite file.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dms.resources.compare import assign_gpus, fits, subtract, total
from dms.resources.errors import (
    InsufficientResources,
    NotOnboarded,
    ResourcesInUse,
    UnknownReservation,
)
from dms.resources.model import Resources
from dms.store.contract import Store

ONBOARDED = "resources.onboarded"
COMMITMENTS = "resources.commitments"
ALLOCATIONS = "resources.allocations"


@dataclass(frozen=True)
class Commitment:
    id: str
    resources: Resources
    created_at: float
    expires_at: float

    def to_dict(self) -> dict[str, Any]:
        return {"resources": self.resources.to_dict(), "created_at": self.created_at,
                "expires_at": self.expires_at}

    @classmethod
    def from_doc(cls, id: str, d: dict[str, Any]) -> Commitment:
        return cls(id, Resources.from_dict(d["resources"]), float(d["created_at"]),
                   float(d["expires_at"]))


@dataclass(frozen=True)
class Allocation:
    id: str
    resources: Resources
    created_at: float
    from_commitment: bool

    def to_dict(self) -> dict[str, Any]:
        return {"resources": self.resources.to_dict(), "created_at": self.created_at,
                "from_commitment": self.from_commitment}

    @classmethod
    def from_doc(cls, id: str, d: dict[str, Any]) -> Allocation:
        return cls(id, Resources.from_dict(d["resources"]), float(d["created_at"]),
                   bool(d.get("from_commitment")))


@dataclass(frozen=True)
class Snapshot:
    onboarded: Resources | None
    free: Resources
    committed: dict[str, Commitment]
    allocated: dict[str, Allocation]

    def to_dict(self) -> dict[str, Any]:
        return {"onboarded": self.onboarded.to_dict() if self.onboarded else None,
                "free": self.free.to_dict(),
                "committed": {k: v.to_dict() for k, v in self.committed.items()},
                "allocated": {k: v.to_dict() for k, v in self.allocated.items()}}


class ResourceManager:
    """Onboarded / free / committed / allocated resources over a :class:`Store`."""

    def __init__(self, store: Store, *, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._clock = clock
        self._onboarded = store.record(ONBOARDED)
        self._commits = store.collection(COMMITMENTS)
        self._allocs = store.collection(ALLOCATIONS)

    # ------------------------------------------------------------ reading

    def onboarded(self) -> Resources | None:
        doc = self._onboarded.get()
        return Resources.from_dict(doc["resources"]) if doc and doc.get("resources") else None

    def committed(self) -> dict[str, Commitment]:
        """Live commitments (expired ones are left out, and purged on the next write)."""
        now = self._clock()
        items = (Commitment.from_doc(i, d) for i, d in self._commits.query())
        return {c.id: c for c in items if c.expires_at > now}

    def allocated(self) -> dict[str, Allocation]:
        return {i: Allocation.from_doc(i, d) for i, d in self._allocs.query()}

    def free(self) -> Resources:
        onboarded = self.onboarded()
        if onboarded is None:
            return Resources()
        used = total([c.resources for c in self.committed().values()]
                     + [a.resources for a in self.allocated().values()])
        return subtract(onboarded, used)

    def snapshot(self) -> Snapshot:
        with self._store.transaction():
            return Snapshot(self.onboarded(), self.free(), self.committed(), self.allocated())

    # ------------------------------------------------------------ onboarding

    def onboarded_doc(self) -> dict[str, Any] | None:
        """The stored onboarding document: ``resources``, ``at`` and the caller's ``meta``."""
        return self._onboarded.get()

    def check_onboardable(self, resources: Resources) -> None:
        """Raise :class:`InsufficientResources` if ``resources`` is less than is in use."""
        check = fits(self._used(), resources)
        if not check.ok:
            raise InsufficientResources(
                "cannot onboard less than is committed and allocated now: "
                + "; ".join(r.replace("available", "onboarded") for r in check.reasons),
                hint="release allocations first, or onboard at least what is in use")

    def set_onboarded(self, resources: Resources, meta: dict[str, Any] | None = None) -> None:
        """Onboard (or change) ``resources``; refuses to shrink below what is in use."""
        with self._store.transaction():
            self._purge()
            self.check_onboardable(resources)
            self._onboarded.set({"resources": resources.to_dict(), "at": self._clock(),
                                 "meta": meta or {}})

    def clear_onboarded(self, force: bool = False) -> list[str]:
        """Offboard. Refuses while allocations exist unless ``force``; returns the ids of
        the allocations and commitments dropped (the caller stops those workloads)."""
        with self._store.transaction():
            allocs = [i for i, _ in self._allocs.query()]
            if allocs and not force:
                raise ResourcesInUse(f"{len(allocs)} allocation(s) still running: "
                                     + ", ".join(sorted(allocs)[:10]))
            commits = [i for i, _ in self._commits.query()]
            for i in allocs:
                self._allocs.delete(i)
            for i in commits:
                self._commits.delete(i)
            self._onboarded.set({"resources": None, "at": self._clock()})
            return sorted(allocs) + sorted(commits)

    # ------------------------------------------------------------ reservations

    def commit(self, id: str, resources: Resources, expiry_s: float) -> Commitment:
        """Reserve ``resources`` under ``id`` for ``expiry_s`` seconds. GPUs without an
        index are assigned free ones. Raises :class:`InsufficientResources` when they do
        not fit what is free (an exact fit counts)."""
        if expiry_s <= 0:
            raise ValueError("expiry_s must be positive")
        with self._store.transaction():
            self._purge()
            self._check_new_id(id)
            concrete = self._reserve(resources)
            now = self._clock()
            c = Commitment(id, concrete, now, now + expiry_s)
            self._commits.put(id, c.to_dict())
            return c

    def try_commit(self, id: str, resources: Resources, expiry_s: float) -> bool:
        try:
            self.commit(id, resources, expiry_s)
        except InsufficientResources:
            return False
        return True

    def allocate(self, id: str, resources: Resources | None = None) -> Allocation:
        """Turn the live commitment ``id`` into an allocation, or, with ``resources`` and
        no commitment, allocate directly from what is free."""
        with self._store.transaction():
            self._purge()
            if self._allocs.get(id) is not None:
                raise InsufficientResources(f"{id!r} is already allocated",
                                            hint="release it first, or use another id")
            doc = self._commits.get(id)
            now = self._clock()
            if doc is not None:
                self._commits.delete(id)
                a = Allocation(id, Commitment.from_doc(id, doc).resources, now, True)
            elif resources is not None:
                a = Allocation(id, self._reserve(resources), now, False)
            else:
                raise UnknownReservation(f"no live commitment {id!r} to allocate",
                                         hint="commit first (it may have expired), or pass "
                                              "the resources to allocate directly")
            self._allocs.put(id, a.to_dict())
            return a

    def release(self, id: str) -> bool:
        """Free the allocation or commitment ``id``; False when there was none."""
        with self._store.transaction():
            return self._allocs.delete(id) | self._commits.delete(id)

    def purge(self) -> list[str]:
        """Drop expired commitments now; returns their ids."""
        with self._store.transaction():
            return self._purge()

    # ------------------------------------------------------------ internals

    def _purge(self) -> list[str]:
        now = self._clock()
        gone = [i for i, d in self._commits.query() if float(d["expires_at"]) <= now]
        for i in gone:
            self._commits.delete(i)
        return gone

    def _used(self) -> Resources:
        return total([c.resources for c in self.committed().values()]
                     + [a.resources for a in self.allocated().values()])

    def _check_new_id(self, id: str) -> None:
        if self._commits.get(id) is not None or self._allocs.get(id) is not None:
            raise InsufficientResources(f"{id!r} already holds resources",
                                        hint="release it first, or use another id")

    def _reserve(self, resources: Resources) -> Resources:
        if self.onboarded() is None:
            raise NotOnboarded("this machine has no onboarded resources")
        free = self.free()
        check = fits(resources, free)
        if not check.ok:
            raise InsufficientResources("not enough free resources: " + "; ".join(check.reasons),
                                        hint="ask for less, or wait for allocations to end",
                                        details={"reasons": check.reasons})
        gpus = assign_gpus(resources.gpus, free.gpus) if resources.gpus else ()
        assert gpus is not None  # fits() succeeded
        return Resources.of(resources.cpu.cores, resources.ram.size, resources.disk.size,
                            tuple(gpus))
