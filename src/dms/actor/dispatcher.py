"""The one table-driven dispatcher: behavior -> (handler, required ability).

    envelope ─> signature ─> expiry / replay ─> behavior lookup ─> authorizer ─> handler
                 (any refusal raises a DMSError; the caller turns it into an error reply)

No handler runs before every check passed; handlers cannot register around it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from dms.actor.authorizer import Authorizer
from dms.actor.signing import NonceCache, verify
from dms.actor.wire import Envelope, Handle
from dms.errors import DMSError, ValidationError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Message:
    """What a handler sees: a verified, authorized envelope."""

    sender: Handle
    behavior: str
    payload: Any
    topic: str | None
    envelope: Envelope


Handler = Callable[[Message], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class Behavior:
    handler: Handler
    ability: str | None  # None: public, no capability needed (still signed, fresh, unique)


class Dispatcher:
    def __init__(self, authorizer: Authorizer, replay: NonceCache | None = None) -> None:
        self.authorizer = authorizer
        self.replay = replay or NonceCache()
        self._table: dict[str, Behavior] = {}

    def register(self, behavior: str, handler: Handler, ability: str | None = None, *,
                 public: bool = False) -> None:
        """Route ``behavior`` to ``handler``; ``ability`` defaults to the behavior path.

        ``public=True`` (for ``/public/*``) skips the capability check only.
        """
        if not behavior.startswith("/"):
            raise ValidationError(f"behavior {behavior!r} must be a path starting with /")
        self._table[behavior] = Behavior(handler, None if public else (ability or behavior))

    def unregister(self, behavior: str) -> None:
        self._table.pop(behavior, None)

    def behaviors(self) -> dict[str, str | None]:
        """Behavior -> required ability (None for public)."""
        return {b: e.ability for b, e in self._table.items()}

    def check(self, env: Envelope) -> Behavior:
        """Every check before a handler; the matching table entry, or a DMSError."""
        verify(env, self.replay)
        entry = self._table.get(env.behavior)
        if entry is None:
            raise ValidationError(f"unknown behavior {env.behavior}",
                                  hint="check the behavior name and the dms version of the "
                                       "receiver", details={"reason": "unknown_behavior"})
        if entry.ability is not None:
            self.authorizer.authorize(env.sender.did, entry.ability, env.tokens, topic=env.topic)
        return entry

    async def dispatch(self, env: Envelope) -> Any:
        """Check, then run the handler; its exceptions become DMSErrors."""
        entry = self.check(env)
        log.debug("%s from %s", env.behavior, env.sender.did)
        try:
            return await entry.handler(Message(env.sender, env.behavior, env.payload,
                                               env.topic, env))
        except DMSError:
            raise
        except Exception as exc:
            log.exception("handler of %s failed", env.behavior)
            raise DMSError(f"{env.behavior} failed on the receiver: {type(exc).__name__}",
                           hint="see the receiver's log for details") from exc
