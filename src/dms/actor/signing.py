"""Sign and verify envelopes; the replay window.

Verification order (cheapest refusal first): signature by the sender DID's key,
expiry (with a small clock-skew allowance), horizon (expiry not too far ahead, which
bounds the replay cache), then the nonce cache.
"""

from __future__ import annotations

import heapq
import time
from functools import lru_cache

from dms.actor.wire import Envelope
from dms.crypto.keys import SigningKey, VerifyKey
from dms.errors import AuthError, DMSError
from dms.identity.did import verify_key_from_did

MAX_TTL = 300.0  # seconds an envelope may live; the replay window
CLOCK_SKEW = 5.0


def sign(env: Envelope, key: SigningKey) -> Envelope:
    env.signature = key.sign(env.signing_bytes())
    return env


@lru_cache(maxsize=4096)
def _verify_key(did: str) -> VerifyKey:
    return verify_key_from_did(did)


def _refuse(reason: str, message: str, hint: str) -> AuthError:
    return AuthError(message, hint=hint, details={"reason": reason})


def verify_signature(env: Envelope) -> None:
    try:
        vk = _verify_key(env.sender.did)
    except DMSError as exc:
        raise _refuse("bad_sender", f"sender {env.sender.did!r} is not a usable did:key",
                      "sign messages with an Ed25519 did:key") from exc
    if not vk.verify(env.signing_bytes(), env.signature):
        raise _refuse("bad_signature",
                      f"the signature of {env.behavior} from {env.sender.did} does not verify",
                      "the message was altered or signed by another key; resend it")


class NonceCache:
    """Seen (sender, nonce) pairs until their expiry; bounded in time and size.

    Envelopes whose expiry lies further than ``max_ttl`` ahead are refused, so an entry
    never needs to outlive ``max_ttl``. When ``max_entries`` is reached the entries
    nearest to expiry are evicted first (and logged by the caller as pressure).
    """

    def __init__(self, max_ttl: float = MAX_TTL, max_entries: int = 200_000) -> None:
        self.max_ttl = max_ttl
        self.max_entries = max_entries
        self._seen: dict[tuple[str, str], float] = {}
        self._heap: list[tuple[float, tuple[str, str]]] = []

    def __len__(self) -> int:
        return len(self._seen)

    def _sweep(self, now: float) -> None:
        heap = self._heap
        while heap and (heap[0][0] < now - CLOCK_SKEW or len(self._seen) > self.max_entries):
            _, k = heapq.heappop(heap)
            self._seen.pop(k, None)

    def check(self, env: Envelope, now: float | None = None) -> None:
        """Refuse expired, too-long-lived or replayed envelopes; remember this one."""
        now = time.time() if now is None else now
        if env.expiry < now - CLOCK_SKEW:
            raise _refuse("expired", f"{env.behavior} from {env.sender.did} expired "
                          f"{now - env.expiry:.1f} s ago",
                          "send a fresh message; check that both clocks are right")
        if env.expiry > now + self.max_ttl + CLOCK_SKEW:
            raise _refuse("expiry_too_far", f"{env.behavior} expires too far in the future",
                          f"messages may live at most {self.max_ttl:.0f} s")
        k = (env.sender.did, env.nonce)
        if k in self._seen:
            raise _refuse("replayed", f"{env.behavior} from {env.sender.did} was already "
                          f"received (nonce {env.nonce})", "send each message once with a fresh nonce")
        self._seen[k] = env.expiry
        heapq.heappush(self._heap, (env.expiry, k))
        if len(self._heap) > self.max_entries or (self._heap and self._heap[0][0] < now - CLOCK_SKEW):
            self._sweep(now)


def verify(env: Envelope, replay: NonceCache, now: float | None = None) -> None:
    """Signature, expiry, replay: raise :class:`AuthError` (details.reason) or return."""
    verify_signature(env)
    replay.check(env, now)
