"""Private networks (pre-shared swarm key) and mDNS discovery."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from network_test_helpers import MakeNet, wait_until

from dms.errors import NetworkError

pytestmark = pytest.mark.functional


def _swarm_key(path: Path) -> Path:
    path.write_text(f"/key/swarm/psk/1.0.0/\n/base16/\n{os.urandom(32).hex()}\n")
    return path


async def test_same_swarm_key_connects_and_talks(make_net: MakeNet, tmp_path: Path) -> None:
    key = _swarm_key(tmp_path / "swarm.key")
    a, b = await make_net(psk_file=key), await make_net(psk_file=key)
    got: list[bytes] = []
    b.set_frame_handler(lambda peer, body: got.append(body))
    await a.connect(b.addrs()[0])
    await a.send_frame(b.peer_id, b"private hello")
    await wait_until(lambda: got == [b"private hello"])


async def test_other_or_no_swarm_key_cannot_connect(make_net: MakeNet, tmp_path: Path) -> None:
    private = await make_net(psk_file=_swarm_key(tmp_path / "a.key"), dial_timeout=1.0)
    stranger = await make_net(psk_file=_swarm_key(tmp_path / "b.key"), dial_timeout=1.0)
    public = await make_net(dial_timeout=1.0)
    for outsider in (stranger, public):
        with pytest.raises(NetworkError):
            await outsider.connect(private.addrs()[0])
        with pytest.raises(NetworkError):
            await private.connect(outsider.addrs()[0])
    assert private.connected_peers() == []


@pytest.mark.slow
async def test_mdns_finds_and_dials_peers_without_bootstrap(make_net: MakeNet) -> None:
    a = await make_net(mdns=True, dht=False)
    b = await make_net(mdns=True, dht=False)
    await wait_until(lambda: b.peer_id in {p.peer_id for p in a.connected_peers()}
                     and a.peer_id in {p.peer_id for p in b.connected_peers()},
                     within=20, what="mDNS discovery (needs a multicast-capable interface)")
