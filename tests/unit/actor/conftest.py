"""In-memory transport for actor unit tests: routers talk through a hub, no libp2p."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import trio

from dms.actor import Actor, AllowList, Router
from dms.crypto.keys import SigningKey


class Hub:
    def __init__(self) -> None:
        self.nets: dict[str, FakeNetwork] = {}
        self.sent: list[tuple[str, str, bytes]] = []  # (from peer, to peer, frame)


class FakeNetwork:
    """Implements dms.actor.router.Transport in memory."""

    def __init__(self, hub: Hub, peer_id: str) -> None:
        self.hub = hub
        self.peer_id = peer_id
        self.handler: Callable[[str, bytes], None] | None = None
        self.topics: dict[str, trio.MemorySendChannel[tuple[str, bytes]]] = {}
        hub.nets[peer_id] = self

    def set_frame_handler(self, handler: Any) -> None:
        self.handler = handler

    async def send_frame(self, peer_id: str, body: bytes) -> None:
        self.hub.sent.append((self.peer_id, peer_id, body))
        dest = self.hub.nets[peer_id]
        assert dest.handler is not None
        dest.handler(self.peer_id, body)
        await trio.lowlevel.checkpoint()

    async def publish(self, topic: str, data: bytes) -> None:
        for net in self.hub.nets.values():
            if topic in net.topics:
                net.topics[topic].send_nowait((self.peer_id, data))
        await trio.lowlevel.checkpoint()

    async def subscribe(self, topic: str) -> AsyncIterator[tuple[str, bytes]]:
        send, recv = trio.open_memory_channel[tuple[str, bytes]](100)
        self.topics[topic] = send

        async def it() -> AsyncIterator[tuple[str, bytes]]:
            async for item in recv:
                yield item
        await trio.lowlevel.checkpoint()
        return it()


class Nodes:
    """Makes actors on fake peers, each with its own router."""

    def __init__(self, nursery: trio.Nursery) -> None:
        self.nursery = nursery
        self.hub = Hub()
        self.routers: dict[str, Router] = {}

    async def actor(self, peer: str, *, authorizer: Any = None, inbox: str = "root",
                    key: SigningKey | None = None) -> Actor:
        if peer not in self.routers:
            net = FakeNetwork(self.hub, peer)
            self.routers[peer] = await self.nursery.start(Router(net).serve)
        return Actor(key or SigningKey.generate(), self.routers[peer],
                     authorizer if authorizer is not None else AllowList([("*", "/")]),
                     inbox=inbox)


@pytest.fixture
async def nodes(nursery: trio.Nursery) -> Nodes:
    return Nodes(nursery)
