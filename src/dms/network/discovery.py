"""Discovery loops: bootstrap redial, mDNS -> dial, DHT seeding and refresh.

Each loop is a plain trio task started by :class:`dms.network.Network`; they only use
the host's public surface plus the DHT.
"""

from __future__ import annotations

import logging
from typing import Any

import multiaddr
import trio
from libp2p.abc import IHost, INetConn, INetStream, INetwork, INotifee
from libp2p.discovery.events.peerDiscovery import peerDiscovery
from libp2p.peer.id import ID
from libp2p.peer.peerinfo import PeerInfo, info_from_p2p_addr

from dms.errors import ConfigError
from dms.network.errors import is_network_failure

log = logging.getLogger(__name__)


def parse_bootstrap(addrs: list[str]) -> list[PeerInfo]:
    out = []
    for a in addrs:
        try:
            out.append(info_from_p2p_addr(multiaddr.Multiaddr(a)))
        except Exception as exc:  # multiaddr/peer id parsing raise assorted types
            raise ConfigError(f"bad bootstrap address {a!r}: {exc}",
                              hint="use a full multiaddr ending in /p2p/<peer id>") from exc
    return out


class ConnectionEvents(INotifee):
    """Swarm notifee that wakes the discovery loops on connect / disconnect."""

    def __init__(self) -> None:
        self.changed = trio.Event()

    def _poke(self) -> None:
        self.changed.set()
        self.changed = trio.Event()

    async def connected(self, network: INetwork, conn: INetConn) -> None:
        self._poke()

    async def disconnected(self, network: INetwork, conn: INetConn) -> None:
        self._poke()

    async def opened_stream(self, network: INetwork, stream: INetStream) -> None:
        pass

    async def closed_stream(self, network: INetwork, stream: INetStream) -> None:
        pass

    async def listen(self, network: INetwork, multiaddr: Any) -> None:
        pass

    async def listen_close(self, network: INetwork, multiaddr: Any) -> None:
        pass


async def _dial(host: IHost, info: PeerInfo, what: str) -> bool:
    try:
        await host.connect(info)
        return True
    except BaseException as exc:
        if not is_network_failure(exc):
            raise
        log.info("%s dial to %s failed: %s", what, info.peer_id, exc)
        return False


async def bootstrap_loop(host: IHost, peers: list[PeerInfo], events: ConnectionEvents,
                         interval: float) -> None:
    """Dial every bootstrap peer now, and again whenever it is not connected."""
    while True:
        connected = set(host.get_connected_peers())
        missing = [p for p in peers if p.peer_id not in connected and p.peer_id != host.get_id()]
        if missing:
            async with trio.open_nursery() as n:
                for p in missing:
                    n.start_soon(_dial, host, p, "bootstrap")
        with trio.move_on_after(interval):
            await events.changed.wait()
            await trio.sleep(0.2)  # a lost peer is redialed promptly, not in a tight loop


async def mdns_loop(host: IHost) -> None:
    """Dial peers that mDNS discovers (py-libp2p only stores them in the peerstore).

    The library reports discoveries from zeroconf's thread through a process-wide
    singleton, so the callback hops back into trio and filters out our own id.
    """
    send, recv = trio.open_memory_channel[PeerInfo](64)
    token = trio.lowlevel.current_trio_token()
    me = host.get_id()

    def on_discovered(info: PeerInfo) -> None:
        if info.peer_id == me:
            return
        try:
            trio.from_thread.run_sync(send.send_nowait, info, trio_token=token)
        except (trio.WouldBlock, trio.RunFinishedError, trio.BrokenResourceError,
                trio.ClosedResourceError):
            pass

    peerDiscovery.register_peer_discovered_handler(on_discovered)
    try:
        async with recv:
            async for info in recv:
                if info.peer_id not in host.get_connected_peers():
                    await _dial(host, info, "mdns")
    finally:
        peerDiscovery.unregister_peer_discovered_handler(on_discovered)


async def dht_seed_loop(host: IHost, dht: Any, events: ConnectionEvents,
                        interval: float) -> None:
    """Keep the routing table seeded with connected peers and refreshed.

    py-libp2p's Kademlia starts with an empty table and does not learn from existing
    connections, so gets and provider lookups fail until it is seeded.
    """
    known: set[ID] = set()
    while True:
        unseeded = 0
        for peer in host.get_connected_peers():
            if peer in known:
                continue
            try:
                if await dht.add_peer(peer, skip_server_mode_check=True):
                    known.add(peer)
                else:  # no listen addrs yet: identify has not answered
                    unseeded += 1
            except Exception as exc:
                unseeded += 1
                log.debug("DHT add_peer %s failed: %r", peer, exc)
        known &= set(host.get_connected_peers())
        with trio.move_on_after(0.5 if unseeded else interval) as scope:
            await events.changed.wait()
        if scope.cancelled_caught and not unseeded:
            try:
                await dht.refresh_routing_table()
            except Exception as exc:
                log.debug("DHT refresh failed: %r", exc)
