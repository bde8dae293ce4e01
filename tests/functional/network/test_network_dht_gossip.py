"""DHT records, gossipsub topics and kept message streams across three real hosts."""

from __future__ import annotations

import contextlib

import pytest
import trio
from libp2p.peer.id import ID
from network_test_helpers import MakeNet, wait_until

from dms.errors import NetworkError
from dms.network import MSG_PROTOCOL, Network

pytestmark = pytest.mark.functional

CID = "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG"


async def test_dht_values_and_providers_across_three_nodes(trio_net: list[Network]) -> None:
    n0, n1, n2 = trio_net
    await wait_until(lambda: all(n.dht_routing_table_size() > 0 for n in trio_net),
                     what="seeded routing tables")
    with trio.fail_after(20):
        await n1.dht_put("greeting", b"hello from n1")
        assert await n2.dht_get("greeting") == b"hello from n1"
        assert await n0.provide(CID)
        providers = await n2.find_providers(CID)
    assert [p.peer_id for p in providers] == [n0.peer_id]  # deduplicated


async def test_dht_finds_a_peer_it_is_not_connected_to(trio_net: list[Network]) -> None:
    n0, n1, n2 = trio_net
    await wait_until(lambda: n0.dht_routing_table_size() >= 2, what="n0 routing table")
    assert n2.peer_id not in {p.peer_id for p in n1.connected_peers()}
    with trio.fail_after(20):
        found = await n1.find_peer(n2.peer_id)
    assert found is not None and found.addrs


async def test_gossip_reaches_every_subscriber(trio_net: list[Network]) -> None:
    got: dict[str, list[tuple[str, bytes]]] = {n.peer_id: [] for n in trio_net}
    async with trio.open_nursery() as nursery:
        for net in trio_net:
            messages = await net.subscribe("/test/topic")

            async def read(net: Network = net, messages=messages) -> None:  # type: ignore[no-untyped-def]
                async for item in messages:
                    got[net.peer_id].append(item)
            nursery.start_soon(read)
        n0, n1, _ = trio_net
        await wait_until(lambda: set(n1.topic_peers("/test/topic")) >= {n0.peer_id},
                         what="topic membership")
        await wait_until(lambda: len(n0.topic_peers("/test/topic")) == 2, what="topic peers")
        await trio.sleep(1.2)  # one gossipsub heartbeat builds the mesh
        await n1.publish("/test/topic", b"announce")
        await wait_until(lambda: all(got[n.peer_id] for n in trio_net), what="delivery")
        nursery.cancel_scope.cancel()
    for net in trio_net:
        assert got[net.peer_id] == [(trio_net[1].peer_id, b"announce")]


def _msg_streams(net: Network, peer: str) -> int:
    conns = net.host.get_network().get_connections(ID.from_base58(peer))
    return sum(1 for c in conns for s in c.get_streams()
               if s.get_protocol() == MSG_PROTOCOL)


async def test_one_kept_stream_carries_every_message_both_ways(make_net: MakeNet) -> None:
    a, b = await make_net(dht=False), await make_net(dht=False)
    at_a: list[bytes] = []
    at_b: list[bytes] = []
    a.set_frame_handler(lambda peer, body: at_a.append(body))
    b.set_frame_handler(lambda peer, body: at_b.append(body))
    await a.connect(b.addrs()[0])
    async with trio.open_nursery() as nursery:
        for i in range(50):
            nursery.start_soon(a.send_frame, b.peer_id, b"a%d" % i)
    await b.send_frame(a.peer_id, b"back")  # rides the stream a opened
    await wait_until(lambda: len(at_b) == 50 and at_a == [b"back"])
    assert sorted(at_b) == sorted(b"a%d" % i for i in range(50))
    assert _msg_streams(a, b.peer_id) == 1 and _msg_streams(b, a.peer_id) == 1


async def test_stream_is_reopened_after_a_reset(make_net: MakeNet) -> None:
    a, b = await make_net(dht=False), await make_net(dht=False)
    at_b: list[bytes] = []
    b.set_frame_handler(lambda peer, body: at_b.append(body))
    await a.connect(b.addrs()[0])
    await a.send_frame(b.peer_id, b"first")
    await wait_until(lambda: at_b == [b"first"])
    conn = a.host.get_network().get_connections(ID.from_base58(b.peer_id))[0]
    for s in conn.get_streams():
        if s.get_protocol() == MSG_PROTOCOL:
            await s.reset()
    await trio.sleep(0.1)
    await a.send_frame(b.peer_id, b"second")
    await wait_until(lambda: at_b == [b"first", b"second"])


async def test_large_frames_pass_and_oversized_frames_are_refused(make_net: MakeNet) -> None:
    a = await make_net(dht=False)
    b = await make_net(dht=False, max_frame_bytes=200_000)
    at_b: list[bytes] = []
    b.set_frame_handler(lambda peer, body: at_b.append(body))
    await a.connect(b.addrs()[0])
    await a.send_frame(b.peer_id, b"x" * 150_000)
    await wait_until(lambda: len(at_b) == 1)
    with contextlib.suppress(NetworkError):  # b resets the stream; a may see it or not
        await a.send_frame(b.peer_id, b"y" * 300_000)
    await a.send_frame(b.peer_id, b"after")  # a fresh stream works again
    await wait_until(lambda: at_b[-1:] == [b"after"])
    assert len(at_b) == 2
