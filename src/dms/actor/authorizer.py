"""The authorizer contract the dispatcher calls, and two simple implementations.

``dms.ucan.CapabilityContext`` implements :class:`Authorizer` with UCAN chains; the
ones here are for tests, benchmarks and single-user setups.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from dms.errors import AuthError


class Authorizer(Protocol):
    def authorize(self, caller_did: str, ability: str, tokens: list[str], *,
                  topic: str | None = None) -> None:
        """Return if ``caller_did`` may exercise ``ability``; raise AuthError otherwise."""
        ...

    def proofs_for(self, audience_did: str, ability: str,
                   topic: str | None = None) -> list[str]:
        """Tokens to attach to a message for ``audience_did`` exercising ``ability``."""
        ...


def ability_implies(granted: str, wanted: str) -> bool:
    """``/dms/deployment`` implies ``/dms/deployment/bid``; ``/`` implies all."""
    if granted in ("/", "") or granted == wanted:
        return True
    return wanted.startswith(granted.rstrip("/") + "/")


class AllowList:
    """Allow (did, ability prefix) pairs; ``"*"`` as did matches every caller."""

    def __init__(self, grants: Iterable[tuple[str, str]] = ()) -> None:
        self.grants: set[tuple[str, str]] = set(grants)

    def allow(self, did: str, ability: str = "/") -> None:
        self.grants.add((did, ability))

    def authorize(self, caller_did: str, ability: str, tokens: list[str], *,
                  topic: str | None = None) -> None:
        for did, prefix in self.grants:
            if did in (caller_did, "*") and ability_implies(prefix, ability):
                return
        raise AuthError(f"{caller_did} may not call {ability}",
                        hint=f"grant the caller a capability for {ability} "
                             "(dms cap grant) and let it attach the token",
                        details={"reason": "no_capability", "ability": ability})

    def proofs_for(self, audience_did: str, ability: str,
                   topic: str | None = None) -> list[str]:
        return []
