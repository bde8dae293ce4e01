"""Per-node message routing: frames and topic messages -> the right local actor.

    Network ──frame(peer, bytes)──> Router._on_frame ─┬─ reply   -> actor.on_reply (inline)
    gossipsub ──(peer, bytes)─────> Router._on_topic ─┴─ request -> actor.on_request (worker)

Several actors live on one node (the node actor at inbox "root", allocations at their
own inboxes), each with its own key; they share the node's peer id and kept streams.
The router checks that an envelope's ``from.peer`` is the peer that delivered it (the
transport authenticated that peer through Noise), then hands it to the actor named by
``to.inbox``; the actor's dispatcher does every other check.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, Protocol

import trio

from dms.actor.deadlines import Deadlines
from dms.actor.wire import ROOT_INBOX, Envelope, Handle
from dms.actor.workers import Workers
from dms.errors import DMSError, NetworkError

if TYPE_CHECKING:
    from dms.actor.actor import Actor

log = logging.getLogger(__name__)


class Transport(Protocol):
    """What the router needs from :class:`dms.network.Network`."""

    peer_id: str

    def set_frame_handler(self, handler: Any) -> None: ...

    async def send_frame(self, peer_id: str, body: bytes) -> None: ...

    async def publish(self, topic: str, data: bytes) -> None: ...

    async def subscribe(self, topic: str) -> AsyncIterator[tuple[str, bytes]]: ...


class Router:
    def __init__(self, network: Transport) -> None:
        self.network = network
        self.peer_id = network.peer_id
        self._actors: dict[str, Actor] = {}
        self._topics: dict[str, set[str]] = {}  # topic -> inboxes
        self._nursery: trio.Nursery | None = None
        self._workers: Workers | None = None
        self.deadlines = Deadlines()  # reply timeouts of this node's actors
        network.set_frame_handler(self._on_frame)

    async def serve(self, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            self._workers = Workers(nursery)
            await nursery.start(self.deadlines.run)
            task_status.started(self)
            try:
                await trio.sleep_forever()
            finally:
                self._nursery = self._workers = None

    # ---- actors and topics -----------------------------------------------------

    def attach(self, actor: Actor) -> None:
        if actor.handle.inbox in self._actors:
            raise DMSError(f"inbox {actor.handle.inbox!r} is taken on this node",
                           hint="give each actor its own inbox name")
        self._actors[actor.handle.inbox] = actor

    def detach(self, inbox: str) -> None:
        self._actors.pop(inbox, None)
        for inboxes in self._topics.values():
            inboxes.discard(inbox)

    def actor(self, inbox: str = ROOT_INBOX) -> Actor | None:
        return self._actors.get(inbox)

    def is_local(self, did: str) -> bool:
        return any(a.handle.did == did for a in self._actors.values())

    async def join(self, topic: str, inbox: str) -> None:
        """Deliver messages on ``topic`` to the actor at ``inbox`` (subscribing once)."""
        first = topic not in self._topics
        self._topics.setdefault(topic, set()).add(inbox)
        if first:
            messages = await self.network.subscribe(topic)
            self._spawn(self._topic_loop, topic, messages)

    # ---- sending -----------------------------------------------------------------

    async def deliver(self, dest: Handle, env: Envelope) -> None:
        data = env.to_wire()
        if dest.peer_id == self.peer_id:
            self._on_frame(self.peer_id, data)  # same node: no network hop
            return
        await self.network.send_frame(dest.peer_id, data)

    async def publish(self, topic: str, env: Envelope) -> None:
        await self.network.publish(topic, env.to_wire())

    # ---- receiving ---------------------------------------------------------------

    def _spawn(self, fn: Any, *args: Any) -> None:
        if self._nursery is None:
            raise NetworkError("the actor router is not running",
                               hint="start Router.serve() with nursery.start first")
        self._nursery.start_soon(fn, *args)

    def _handle(self, fn: Any, *args: Any) -> None:
        """Run a request (or a refusal) in a pooled worker task."""
        if self._workers is None:
            raise NetworkError("the actor router is not running",
                               hint="start Router.serve() with nursery.start first")
        self._workers.submit(fn, *args)

    def _decode(self, peer: str, data: bytes) -> Envelope | None:
        try:
            env = Envelope.from_wire(data)
        except DMSError as exc:
            log.info("dropped an undecodable message from %s: %s", peer, exc)
            return None
        if env.sender.peer_id != peer:
            log.warning("dropped %s: it claims peer %s but came from %s",
                        env.behavior, env.sender.peer_id, peer)
            return None
        return env

    def _on_frame(self, peer: str, data: bytes) -> None:
        env = self._decode(peer, data)
        if env is None:
            return
        if env.to is None:
            log.info("dropped %s from %s: point-to-point message without 'to'",
                     env.behavior, peer)
            return
        actor = self._actors.get(env.to.inbox)
        if actor is None or actor.handle.did != env.to.did:
            self._no_such_actor(env)
            return
        if env.is_reply:
            actor.on_reply(env)
        else:
            self._handle(actor.on_request, env)

    def _no_such_actor(self, env: Envelope) -> None:
        root = self._actors.get(ROOT_INBOX)
        if root is None or env.is_reply or not env.reply_to:
            log.info("dropped %s for unknown actor %s", env.behavior, env.to)
            return
        err = DMSError(f"no actor {env.to.did if env.to else '?'} at inbox "
                       f"{env.to.inbox if env.to else '?'} on peer {self.peer_id}",
                       code="no_such_actor", hint="the actor may have stopped; check the handle")
        self._handle(root.reply_error, env, err)

    async def _topic_loop(self, topic: str, messages: AsyncIterator[tuple[str, bytes]]) -> None:
        try:
            async for peer, data in messages:
                env = self._decode(peer, data)
                if env is None or env.topic != topic or self.is_local(env.sender.did):
                    continue
                for inbox in list(self._topics.get(topic, ())):
                    actor = self._actors.get(inbox)
                    if actor is not None:
                        self._handle(actor.on_request, env)
        except (DMSError, trio.BrokenResourceError, trio.ClosedResourceError,
                trio.EndOfChannel) as exc:
            log.error("subscription to %s ended: %s", topic, exc)
        finally:
            self._topics.pop(topic, None)  # a later join subscribes again
