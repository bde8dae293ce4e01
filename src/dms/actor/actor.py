"""The Actor: a key, an inbox, a dispatcher; send, invoke, broadcast.

    actor.invoke(dest, "/public/hello", {}) ──signed envelope──> dest's dispatcher
         ^                                                           │ checks, handler
         └──── reply {"result": ...} | {"error": {code, message, hint}} ┘

Every outgoing message is signed with the actor's key and carries the authorizer's
``proofs_for`` tokens. Replies are correlated by the request nonce (``reply_to`` =
``/dms/actor/reply/<nonce>``) and verified like any other message.
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import trio

from dms.actor.authorizer import Authorizer
from dms.actor.dispatcher import Dispatcher, Handler
from dms.actor.router import Router
from dms.actor.signing import MAX_TTL, sign, verify
from dms.actor.wire import REPLY_PREFIX, ROOT_INBOX, Envelope, Handle, error_payload, ok_payload
from dms.crypto.keys import SigningKey
from dms.errors import DMSError, RemoteError, Timeout, ValidationError, from_dict

log = logging.getLogger(__name__)

DEFAULT_TTL = 60.0


@dataclass(slots=True)
class Reply:
    """One answer to an invoke or a broadcast: a result or an error."""

    sender: Handle
    result: Any = None
    error: DMSError | None = None
    # seconds from publishing the broadcast to this reply's arrival (trio clock, caller
    # side); set by broadcast_collect, None elsewhere
    rtt_s: float | None = None


@dataclass(slots=True, weakref_slot=True)
class _Pending:
    expect_did: str | None  # None: a broadcast, anyone may answer
    expect_peer: str | None = None
    replies: list[Reply] = field(default_factory=list)
    event: trio.Event = field(default_factory=trio.Event)

    def expire(self) -> None:  # the router's Deadlines: no reply in time
        self.event.set()
    sent_at: float | None = None  # trio.current_time() at publish (broadcasts only)


def _new_nonce() -> str:
    return secrets.token_hex(12)


def _decode_reply(env: Envelope) -> Reply:
    p = env.payload
    if isinstance(p, dict) and isinstance(p.get("error"), dict):
        return Reply(env.sender, error=from_dict(p["error"]))
    if isinstance(p, dict) and "result" in p:
        return Reply(env.sender, result=p["result"])
    return Reply(env.sender, error=RemoteError("the peer sent a malformed reply",
                                               hint="the peer may run an incompatible dms"))


def _node_error(env: Envelope, peer: str | None) -> bool:
    """An error answered by the node actor of the peer we sent to (e.g. no such inbox)."""
    return (env.sender.peer_id == peer and env.sender.inbox == ROOT_INBOX
            and isinstance(env.payload, dict) and "error" in env.payload)


class Actor:
    def __init__(self, key: SigningKey, router: Router, authorizer: Authorizer, *,
                 inbox: str = ROOT_INBOX, default_ttl: float = DEFAULT_TTL) -> None:
        self._key = key
        self.router = router
        self.authorizer = authorizer
        self.handle = Handle(key.did, router.peer_id, inbox)
        self.dispatcher = Dispatcher(authorizer)
        self.default_ttl = default_ttl
        self._pending: dict[str, _Pending] = {}
        router.attach(self)

    @property
    def did(self) -> str:
        return self.handle.did

    def close(self) -> None:
        self.router.detach(self.handle.inbox)

    def register(self, behavior: str, handler: Handler, ability: str | None = None, *,
                 public: bool = False) -> None:
        """Add ``behavior`` to this actor's dispatch table (see :class:`Dispatcher`)."""
        self.dispatcher.register(behavior, handler, ability, public=public)

    async def subscribe(self, topic: str) -> None:
        """Receive broadcasts on ``topic`` (dispatched like any message)."""
        await self.router.join(topic, self.handle.inbox)

    # ---- outgoing ----------------------------------------------------------------

    def envelope(self, to: Handle | None, behavior: str, payload: Any = None, *, ttl: float,
                 reply_to: str | None = None, topic: str | None = None,
                 tokens: list[str] | None = None, nonce: str | None = None) -> Envelope:
        """A signed envelope from this actor; tokens default to the authorizer's proofs."""
        ttl = min(max(ttl, 1.0), MAX_TTL)
        if tokens is None:
            audience = to.did if to is not None else ""
            tokens = self.authorizer.proofs_for(audience, behavior, topic)
        env = Envelope(behavior=behavior, sender=self.handle, nonce=nonce or _new_nonce(),
                       expiry=round(time.time() + ttl, 3), to=to, reply_to=reply_to,
                       topic=topic, payload=payload, tokens=tokens)
        return sign(env, self._key)

    async def send(self, dest: Handle, behavior: str, payload: Any = None, *,
                   ttl: float | None = None) -> None:
        """Fire and forget (no reply is asked for; failures on the receiver are logged there)."""
        env = self.envelope(dest, behavior, payload, ttl=ttl or self.default_ttl)
        await self.router.deliver(dest, env)

    async def invoke(self, dest: Handle, behavior: str, payload: Any = None, *,
                     timeout: float = 10.0) -> Any:  # noqa: ASYNC109 (becomes a dms Timeout)
        """Request-reply: the handler's result, or the DMSError the receiver answered."""
        nonce = _new_nonce()
        env = self.envelope(dest, behavior, payload, ttl=timeout + 5.0,
                            reply_to=REPLY_PREFIX + nonce, nonce=nonce)
        return await self.request(dest, env, timeout=timeout)

    async def request(self, dest: Handle, env: Envelope, *,
                      timeout: float = 10.0) -> Any:  # noqa: ASYNC109 (becomes a dms Timeout)
        """Deliver a prepared envelope whose ``reply_to`` is ``/dms/actor/reply/<id>``
        and wait for the answer (used by :meth:`invoke`; tests use it to send crafted
        envelopes)."""
        if not (env.reply_to or "").startswith(REPLY_PREFIX):
            raise ValidationError("a request needs reply_to = /dms/actor/reply/<id>")
        key = (env.reply_to or "")[len(REPLY_PREFIX):]
        pending = self._pending[key] = _Pending(expect_did=dest.did, expect_peer=dest.peer_id)
        deadlines = self.router.deadlines
        try:
            await self.router.deliver(dest, env)
            if deadlines.running:  # one timer task for all requests (see deadlines.py)
                deadlines.add(trio.current_time() + timeout, pending)
                await pending.event.wait()
            else:
                with trio.move_on_after(timeout):
                    await pending.event.wait()
        finally:
            del self._pending[key]
        if not pending.replies:
            raise Timeout(f"no reply to {env.behavior} from {dest.did} within {timeout:g} s",
                          hint="the peer may be overloaded or gone; retry or raise the timeout")
        reply = pending.replies[0]
        if reply.error is not None:
            raise reply.error
        return reply.result

    async def broadcast(self, topic: str, behavior: str, payload: Any = None, *,
                        ttl: float | None = None) -> None:
        """Publish on a gossipsub topic (best effort, no replies asked)."""
        env = self.envelope(None, behavior, payload, ttl=ttl or self.default_ttl, topic=topic)
        await self.router.publish(topic, env)

    async def broadcast_collect(self, topic: str, behavior: str, payload: Any = None, *,
                                window: float = 1.0, limit: int | None = None) -> list[Reply]:
        """Publish, then gather the replies that arrive within ``window`` seconds
        (or until ``limit`` replies). Replies travel point to point; each carries
        ``rtt_s``, the time from publishing to its arrival here."""
        nonce = _new_nonce()
        env = self.envelope(None, behavior, payload, ttl=window + 5.0, topic=topic,
                             reply_to=REPLY_PREFIX + nonce, nonce=nonce)
        pending = self._pending[nonce] = _Pending(expect_did=None)
        try:
            pending.sent_at = trio.current_time()
            await self.router.publish(topic, env)
            with trio.move_on_after(window):
                while limit is None or len(pending.replies) < limit:
                    await pending.event.wait()
                    pending.event = trio.Event()
        finally:
            del self._pending[nonce]
        return pending.replies

    # ---- incoming (called by the router) -------------------------------------------

    def on_reply(self, env: Envelope) -> None:
        pending = self._pending.get(env.behavior[len(REPLY_PREFIX):])
        if pending is None:
            log.debug("late or unknown reply %s from %s", env.behavior, env.sender.did)
            return
        arrived = trio.current_time()
        try:
            verify(env, self.dispatcher.replay)
        except DMSError as exc:
            log.warning("refused a reply from %s: %s", env.sender.did, exc)
            return
        if pending.expect_did is not None and env.sender.did != pending.expect_did \
                and not _node_error(env, pending.expect_peer):
            log.warning("refused a reply from %s: expected %s", env.sender.did,
                        pending.expect_did)
            return
        if pending.expect_did is not None and pending.replies:
            return
        reply = _decode_reply(env)
        if pending.sent_at is not None:
            reply.rtt_s = arrived - pending.sent_at
        pending.replies.append(reply)
        pending.event.set()

    async def on_request(self, env: Envelope) -> None:
        try:
            result = await self.dispatcher.dispatch(env)
        except DMSError as exc:
            log.info("refused %s from %s: %s", env.behavior, env.sender.did, exc)
            await self.reply_error(env, exc)
            return
        if env.reply_to:
            await self._reply(env, ok_payload(result))

    async def reply_error(self, env: Envelope, err: DMSError) -> None:
        if env.reply_to and not env.is_reply:
            await self._reply(env, error_payload(err.to_dict()))

    async def _reply(self, env: Envelope, payload: dict[str, Any]) -> None:
        assert env.reply_to is not None
        if not env.reply_to.startswith(REPLY_PREFIX):
            log.info("not answering %s: reply_to %r is not a reply path", env.behavior,
                     env.reply_to)
            return
        try:
            reply = self.envelope(env.sender, env.reply_to, payload, ttl=30.0, tokens=[])
        except (ValueError, TypeError):  # the handler's result is not JSON
            err = ValidationError(f"{env.behavior} returned a result that is not JSON",
                                  hint="handlers must return JSON-able values")
            reply = self.envelope(env.sender, env.reply_to, error_payload(err.to_dict()),
                                  ttl=30.0, tokens=[])
        try:
            await self.router.deliver(env.sender, reply)
        except DMSError as exc:
            log.info("could not answer %s to %s: %s", env.behavior, env.sender.did, exc)
