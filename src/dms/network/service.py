"""The :class:`Network` service: one libp2p host and everything running on it.

    Network.serve()
      host.run(listen)            TCP + Noise + Yamux, identify, ping (library defaults)
      ├── MessageStreams           /dms/msg/1.0.0 kept streams, frames -> on_frame
      ├── Pubsub(GossipSub)        topics: publish / subscribe (broadcast only)
      ├── KadDHT (server)          peer routing, values, provider records
      ├── bootstrap_loop           dial + redial configured peers
      ├── mdns_loop                dial what mDNS finds
      └── dht_seed_loop            seed + refresh the routing table
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import multiaddr
import trio
from libp2p.abc import IHost
from libp2p.host.ping import ID as PING_ID
from libp2p.kad_dht.kad_dht import DHTMode, KadDHT
from libp2p.peer.id import ID
from libp2p.peer.peerinfo import info_from_p2p_addr
from libp2p.pubsub.gossipsub import PROTOCOL_ID, PROTOCOL_ID_V11, GossipSub
from libp2p.pubsub.pubsub import Pubsub
from libp2p.records.validator import Validator
from libp2p.tools.anyio_service import background_trio_service

from dms.crypto.keys import SigningKey
from dms.errors import NetworkError, ValidationError
from dms.network import discovery
from dms.network.errors import network_errors
from dms.network.host import build_host, check_ports_free, peer_id_of
from dms.network.settings import NetworkSettings
from dms.network.streams import MessageStreams

log = logging.getLogger(__name__)

DMS_DHT_NAMESPACE = "dms"


@dataclass(frozen=True)
class PeerInfo:
    """A peer as behaviors report it."""

    peer_id: str
    addrs: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"peer_id": self.peer_id, "addrs": list(self.addrs)}


class _OpenValidator(Validator):
    """DHT values under /dms/ are accepted as they are; newest write wins locally."""

    def validate(self, key: str, value: bytes) -> None:
        return None

    def select(self, key: str, values: list[bytes]) -> int:
        return 0


@lru_cache(maxsize=1024)
def _parse_peer(peer_id: str) -> ID:
    try:
        return ID.from_base58(peer_id)
    except Exception as exc:  # base58 / multihash errors vary
        raise ValidationError(f"not a peer id: {peer_id!r}",
                              hint="peer ids look like 12D3KooW...") from exc


class Network:
    """The node's libp2p presence. Start with ``await nursery.start(net.serve)``."""

    def __init__(self, key: SigningKey, settings: NetworkSettings | None = None) -> None:
        self.settings = settings or NetworkSettings()
        self._key = key
        self.peer_id: str = peer_id_of(key).to_base58()
        self._host: IHost | None = None
        self._streams: MessageStreams | None = None
        self._pubsub: Pubsub | None = None
        self._dht: KadDHT | None = None
        self._frame_handler: Callable[[str, bytes], None] = _drop_frame
        self._bootstrap = discovery.parse_bootstrap(self.settings.bootstrap)

    # ---- lifecycle -------------------------------------------------------------

    def set_frame_handler(self, handler: Callable[[str, bytes], None]) -> None:
        """``handler(peer_id, body)`` gets every message frame; it must not block."""
        self._frame_handler = handler

    @property
    def host(self) -> IHost:
        if self._host is None:
            raise NetworkError("the network is not running",
                               hint="start Network.serve() with nursery.start first")
        return self._host

    async def serve(self, *, task_status: Any = trio.TASK_STATUS_IGNORED
                    ) -> None:
        check_ports_free(self.settings.listen_addrs)
        host = build_host(self._key, self.settings)
        listen = [multiaddr.Multiaddr(a) for a in self.settings.listen_addrs]
        events = discovery.ConnectionEvents()
        async with self._running(host, listen) as nursery:
            host.get_network().register_notifee(events)
            streams = MessageStreams(host, lambda p, b: self._frame_handler(p, b),
                                     max_frame=self.settings.max_frame_bytes)
            await nursery.start(streams.serve)
            self._streams = streams
            await self._start_pubsub(nursery, host)
            if self.settings.dht:
                await self._start_dht(nursery, host, events)
            if self._bootstrap:
                nursery.start_soon(discovery.bootstrap_loop, host, self._bootstrap, events,
                                   self.settings.bootstrap_redial_interval)
            if self.settings.mdns:
                nursery.start_soon(discovery.mdns_loop, host)
            if not host.get_addrs():
                raise NetworkError(f"libp2p could not listen on {self.settings.listen_addrs}",
                                   hint="check network.listen_addrs")
            self._host = host
            task_status.started(self)
            try:
                await trio.sleep_forever()
            finally:
                self._host = self._streams = self._pubsub = self._dht = None

    @asynccontextmanager
    async def _running(self, host: IHost, listen: list[Any]) -> AsyncIterator[trio.Nursery]:
        entered = False
        try:
            async with host.run(listen_addrs=listen), trio.open_nursery() as nursery:
                entered = True
                try:
                    yield nursery
                finally:
                    nursery.cancel_scope.cancel()
                    # host.run() leaves connections to task cancellation, which leaks
                    # sockets; close them deterministically, even while cancelled.
                    with trio.CancelScope(shield=True), trio.move_on_after(3):
                        await host.close()
        except BaseException as exc:
            if entered or isinstance(exc, trio.Cancelled | KeyboardInterrupt):
                raise
            with network_errors(f"starting libp2p on {self.settings.listen_addrs}",
                                hint="is the port already in use? change network.listen_addrs"):
                raise

    async def _start_pubsub(self, nursery: trio.Nursery, host: IHost) -> None:
        g = self.settings.gossip
        router = GossipSub(protocols=[PROTOCOL_ID_V11, PROTOCOL_ID], degree=g.degree,
                           degree_low=g.degree_low, degree_high=g.degree_high,
                           heartbeat_interval=g.heartbeat_interval,
                           max_messages_per_topic_per_second=g.max_messages_per_topic_per_second)
        pubsub = Pubsub(host, router)
        await nursery.start(_run_service, router)
        await nursery.start(_run_service, pubsub)
        await pubsub.wait_until_ready()
        self._pubsub = pubsub

    async def _start_dht(self, nursery: trio.Nursery, host: IHost,
                         events: discovery.ConnectionEvents) -> None:
        dht = KadDHT(host, DHTMode.SERVER)
        dht.register_validator(DMS_DHT_NAMESPACE, _OpenValidator())
        await nursery.start(_run_service, dht)
        nursery.start_soon(discovery.dht_seed_loop, host, dht, events,
                           self.settings.dht_refresh_interval)
        self._dht = dht

    # ---- peers -----------------------------------------------------------------

    def addrs(self) -> list[str]:
        return [str(a) for a in self.host.get_addrs()]

    def self_info(self) -> PeerInfo:
        return PeerInfo(self.peer_id, self.addrs())

    def connected_peers(self) -> list[PeerInfo]:
        store = self.host.get_peerstore()
        out = []
        for pid in self.host.get_connected_peers():
            try:
                addrs = [str(a) for a in store.addrs(pid)]
            except Exception:  # peerstore raises when it has no addrs
                addrs = []
            out.append(PeerInfo(pid.to_base58(), addrs))
        return out

    def peer_addrs(self, peer_id: str) -> list[str]:
        """The addresses this node knows for ``peer_id`` (empty when none)."""
        try:
            return [str(a) for a in self.host.get_peerstore().addrs(_parse_peer(peer_id))]
        except Exception:  # the peerstore raises when it has no addrs
            return []

    def add_peer_addrs(self, peer_id: str, addrs: list[str], ttl_s: int = 24 * 3600) -> None:
        """Remember addresses of ``peer_id`` (e.g. kept from before a restart)."""
        good = []
        for a in addrs:
            try:
                good.append(multiaddr.Multiaddr(a))
            except Exception:  # a malformed stored address is skipped, not fatal
                log.debug("skipping bad address %r of %s", a, peer_id)
        if good:
            self.host.get_peerstore().add_addrs(_parse_peer(peer_id), good, ttl_s)

    async def connect(self, addr: str) -> str:
        """Dial a full multiaddr (``.../p2p/<peer id>``); return the peer id."""
        try:
            info = info_from_p2p_addr(multiaddr.Multiaddr(addr))
        except Exception as exc:
            raise ValidationError(f"bad peer address {addr!r}: {exc}",
                                  hint="use a full multiaddr ending in /p2p/<peer id>") from exc
        with network_errors(f"dial {addr}"), trio.fail_after(self.settings.dial_timeout):
            await self.host.connect(info)
        return info.peer_id.to_base58()

    async def ping(self, peer_id: str, count: int = 1,
                   timeout: float = 5.0) -> list[float]:  # noqa: ASYNC109 (a dms Timeout)
        """Round-trip times in ms (float, measured here) over /ipfs/ping/1.0.0."""
        pid = _parse_peer(peer_id)
        rtts: list[float] = []
        with network_errors(f"ping {peer_id}"), trio.fail_after(timeout):
            stream = await self.host.new_stream(pid, [PING_ID])
            try:
                for _ in range(count):
                    payload = os.urandom(32)
                    t0 = time.perf_counter()
                    await stream.write(payload)
                    got = b""
                    while len(got) < 32:
                        got += await stream.read(32 - len(got))
                    rtts.append((time.perf_counter() - t0) * 1000.0)
                    if got != payload:
                        raise NetworkError(f"ping {peer_id}: the peer echoed other bytes")
            finally:
                await stream.close()
        return rtts

    # ---- messages and topics ---------------------------------------------------

    async def send_frame(self, peer_id: str, body: bytes) -> None:
        """Send one message frame to ``peer_id`` over the kept stream."""
        if self._streams is None:
            raise NetworkError("the network is not running", hint="start Network.serve()")
        pid = _parse_peer(peer_id)
        try:
            await self._streams.send(pid, body)
        except NetworkError:
            if not await self._route(pid):
                raise
            await self._streams.send(pid, body)

    async def _route(self, pid: ID) -> bool:
        """Peer routing: find addresses of an unknown peer in the DHT. True if found."""
        if self._dht is None or pid in self.host.get_connected_peers():
            return False
        with trio.move_on_after(self.settings.dial_timeout):
            try:
                info = await self._dht.find_peer(pid)
            except Exception as exc:  # the DHT raises assorted errors; the send error stands
                log.debug("DHT lookup of %s failed: %r", pid, exc)
                return False
            if info is not None and info.addrs:
                self.host.get_peerstore().add_addrs(pid, info.addrs, 3600)
                return True
        return False

    def _ps(self) -> Pubsub:
        if self._pubsub is None:
            raise NetworkError("the network is not running", hint="start Network.serve()")
        return self._pubsub

    async def publish(self, topic: str, data: bytes) -> None:
        """Broadcast on a gossipsub topic. Best effort: bursts may be dropped."""
        with network_errors(f"publish on {topic}"):
            await self._ps().publish(topic, data)

    async def subscribe(self, topic: str) -> AsyncIterator[tuple[str, bytes]]:
        """Yield ``(sender peer id, data)`` for each message on ``topic``."""
        with network_errors(f"subscribe to {topic}"):
            sub = await self._ps().subscribe(topic)
        return _iterate(sub)

    def topic_peers(self, topic: str) -> list[str]:
        peers = self._ps().peer_topics.get(topic, set())
        return sorted(p.to_base58() for p in peers)

    # ---- DHT -------------------------------------------------------------------

    def _need_dht(self) -> KadDHT:
        if self._dht is None:
            raise NetworkError("the DHT is off", hint="set network.dht = true")
        return self._dht

    async def dht_put(self, key: str, value: bytes) -> None:
        """Store ``value`` under ``/dms/<key>`` on the closest peers."""
        with network_errors(f"DHT put {key}"):
            await self._need_dht().put_value(_dht_key(key), value)

    async def dht_get(self, key: str) -> bytes | None:
        with network_errors(f"DHT get {key}"):
            return await self._need_dht().get_value(_dht_key(key))

    async def provide(self, key: str) -> bool:
        with network_errors(f"DHT provide {key}"):
            return await self._need_dht().provide(key)

    async def find_providers(self, key: str, count: int = 20) -> list[PeerInfo]:
        with network_errors(f"DHT find providers of {key}"):
            found = await self._need_dht().find_providers(key, count)
        seen: dict[str, PeerInfo] = {}
        for info in found:  # the library repeats entries
            pid = info.peer_id.to_base58()
            seen.setdefault(pid, PeerInfo(pid, [str(a) for a in info.addrs]))
        return list(seen.values())

    async def find_peer(self, peer_id: str) -> PeerInfo | None:
        with network_errors(f"DHT find peer {peer_id}"):
            info = await self._need_dht().find_peer(_parse_peer(peer_id))
        return None if info is None else PeerInfo(peer_id, [str(a) for a in info.addrs])

    def dht_routing_table_size(self) -> int:
        return self._need_dht().get_routing_table_size()


def _dht_key(key: str) -> str:
    return key if key.startswith(f"/{DMS_DHT_NAMESPACE}/") else f"/{DMS_DHT_NAMESPACE}/{key}"


def _drop_frame(peer_id: str, body: bytes) -> None:
    log.debug("no frame handler: dropped %d bytes from %s", len(body), peer_id)


async def _iterate(sub: Any) -> AsyncIterator[tuple[str, bytes]]:
    while True:
        msg = await sub.get()
        try:
            sender = ID(msg.from_id).to_base58()
        except Exception:
            continue
        yield sender, bytes(msg.data)


async def _run_service(service: Any, *, task_status: Any = trio.TASK_STATUS_IGNORED
                       ) -> None:
    async with background_trio_service(service):
        task_status.started()
        await trio.sleep_forever()
