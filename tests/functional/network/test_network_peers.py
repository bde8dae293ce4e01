"""Discovery, peers, ping, limits and security of the libp2p host."""

from __future__ import annotations

import multiaddr
import pytest
import trio
from libp2p import new_host
from libp2p.crypto.ed25519 import create_new_key_pair
from libp2p.network.config import ConnectionConfig
from libp2p.peer.id import ID
from libp2p.peer.peerinfo import info_from_p2p_addr
from libp2p.security.insecure.transport import PLAINTEXT_PROTOCOL_ID, InsecureTransport
from network_test_helpers import MakeNet, wait_until

from dms.errors import ConfigError, NetworkError, ValidationError
from dms.network import Network

pytestmark = pytest.mark.functional


async def test_bootstrap_connects_and_lists_peers(trio_net: list[Network]) -> None:
    n0, n1, n2 = trio_net
    peers = {p.peer_id: p for p in n0.connected_peers()}
    assert set(peers) == {n1.peer_id, n2.peer_id}
    assert all(a.startswith("/ip4/127.0.0.1/tcp/") for a in peers[n1.peer_id].addrs)
    me = n0.self_info()
    assert me.peer_id == n0.peer_id and me.addrs[0].endswith(f"/p2p/{n0.peer_id}")


async def test_lost_bootstrap_peer_is_redialed(make_net: MakeNet) -> None:
    n0 = await make_net()
    n1 = await make_net(bootstrap=[n0.addrs()[0]], bootstrap_redial_interval=0.5)
    await wait_until(lambda: n0.peer_id in {p.peer_id for p in n1.connected_peers()})
    await n1.host.disconnect(ID.from_base58(n0.peer_id))
    assert n0.peer_id not in {p.peer_id for p in n1.connected_peers()}
    await wait_until(lambda: n0.peer_id in {p.peer_id for p in n1.connected_peers()},
                     what="redial of the bootstrap peer")


async def test_ping_reports_float_milliseconds(trio_net: list[Network]) -> None:
    n0, n1, _ = trio_net
    rtts = await n1.ping(n0.peer_id, count=3)
    assert len(rtts) == 3 and all(isinstance(r, float) and r > 0 for r in rtts)


async def test_connect_by_multiaddr_and_clear_errors(make_net: MakeNet) -> None:
    a, b = await make_net(), await make_net()
    assert await a.connect(b.addrs()[0]) == b.peer_id
    assert b.peer_id in {p.peer_id for p in a.connected_peers()}
    with pytest.raises(ValidationError):
        await a.connect("/ip4/127.0.0.1/tcp/1")  # no /p2p/ part
    with pytest.raises(NetworkError) as ei:
        await a.connect(f"/ip4/127.0.0.1/tcp/1/p2p/{_stranger()}")  # nothing listens there
    assert ei.value.hint


async def test_port_in_use_is_a_network_error(make_net: MakeNet) -> None:
    a = await make_net()
    port = a.addrs()[0].split("/")[4]
    with pytest.raises(NetworkError, match="cannot listen"):
        await make_net(listen_addrs=[f"/ip4/127.0.0.1/tcp/{port}"])


async def test_bad_bootstrap_address_is_a_config_error() -> None:
    from network_test_helpers import loopback

    from dms.crypto.keys import SigningKey

    with pytest.raises(ConfigError):
        Network(SigningKey.generate(), loopback(bootstrap=["/ip4/127.0.0.1/tcp/1"]))


def _stranger() -> str:
    return ID.from_pubkey(create_new_key_pair().public_key).to_base58()


def _plaintext_host():  # type: ignore[no-untyped-def]
    kp = create_new_key_pair()
    return new_host(key_pair=kp, sec_opt={PLAINTEXT_PROTOCOL_ID: InsecureTransport(kp)},
                    connection_config=ConnectionConfig(max_connections_per_peer=1,
                                                       dial_timeout=3.0))


async def test_plaintext_only_peer_cannot_connect(make_net: MakeNet) -> None:
    node = await make_net(dial_timeout=3.0)
    plain = _plaintext_host()
    async with plain.run(listen_addrs=[multiaddr.Multiaddr("/ip4/127.0.0.1/tcp/0")]):
        with pytest.raises(Exception), trio.fail_after(15):  # noqa: B017 (library errors vary)
            await plain.connect(info_from_p2p_addr(multiaddr.Multiaddr(node.addrs()[0])))
        assert node.connected_peers() == []
        plain_addr = f"{plain.get_addrs()[0]}"
        with pytest.raises(NetworkError):
            await node.connect(plain_addr)
        assert node.connected_peers() == []


async def test_peer_limit_refuses_extra_peers(make_net: MakeNet) -> None:
    hub = await make_net(max_peers=1)
    a, b = await make_net(), await make_net()
    await a.connect(hub.addrs()[0])
    try:
        await b.connect(hub.addrs()[0])
    except NetworkError:
        pass  # refused during the upgrade; otherwise the hub closes it right after
    await wait_until(lambda: not b.connected_peers(), within=5, what="the hub refusing b")
    assert [p.peer_id for p in hub.connected_peers()] == [a.peer_id]
