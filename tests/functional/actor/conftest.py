"""Full dms message stack (Network + Router + Actor) on loopback hosts."""

from __future__ import annotations

from typing import Any

import pytest
import trio
from actor_test_helpers import MakeNode, Node, wait_until

from dms.actor import Actor, AllowList, Router
from dms.actor.behaviors import register_peers, register_public
from dms.crypto.keys import SigningKey
from dms.network import Network, NetworkSettings


@pytest.fixture
async def make_node(nursery: trio.Nursery) -> MakeNode:
    async def make(**kw: Any) -> Node:
        settings: dict[str, Any] = {"listen_addrs": ["/ip4/127.0.0.1/tcp/0"], "mdns": False,
                                    "dht": False}
        settings.update(kw)
        key = SigningKey.generate()
        net = await nursery.start(Network(key, NetworkSettings(**settings)).serve)
        router = await nursery.start(Router(net).serve)
        auth = AllowList()
        actor = Actor(key, router, auth)
        await register_public(actor)
        register_peers(actor, net)
        return Node(net, router, actor, auth)
    return make


@pytest.fixture
async def three(make_node: MakeNode) -> list[Node]:
    """Three nodes: 1 and 2 bootstrap from 0, every node trusts every other for /dms."""
    n0 = await make_node(dht=True)
    boot = [n0.net.addrs()[0]]
    n1 = await make_node(bootstrap=boot, dht=True)
    n2 = await make_node(bootstrap=boot, dht=True)
    nodes = [n0, n1, n2]
    for n in nodes:
        for other in nodes:
            n.auth.allow(other.actor.did, "/dms/node/peers")
    await wait_until(lambda: len(n0.net.connected_peers()) == 2, what="bootstrap")
    return nodes


@pytest.fixture(autouse=True)
def _collect_library_socket_leaks() -> Any:
    """See tests/functional/network/conftest.py: py-libp2p leaks some sockets."""
    yield
    import gc
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()
