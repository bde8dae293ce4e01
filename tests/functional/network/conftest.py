"""Real libp2p hosts on loopback, started in the test's trio loop."""

from __future__ import annotations

from typing import Any

import pytest
import trio
from network_test_helpers import MakeNet, loopback, wait_until

from dms.crypto.keys import SigningKey
from dms.network import Network


@pytest.fixture
async def make_net(nursery: trio.Nursery) -> MakeNet:
    async def make(**kw: Any) -> Network:
        return await nursery.start(Network(SigningKey.generate(), loopback(**kw)).serve)
    return make


@pytest.fixture
async def trio_net(make_net: MakeNet) -> list[Network]:
    """Three nodes; 1 and 2 bootstrap from 0."""
    n0 = await make_net()
    boot = [n0.addrs()[0]]
    n1 = await make_net(bootstrap=boot)
    n2 = await make_net(bootstrap=boot)
    await wait_until(lambda: len(n0.connected_peers()) == 2, what="bootstrap connections")
    return [n0, n1, n2]


@pytest.fixture(autouse=True)
def _collect_library_socket_leaks() -> Any:
    """py-libp2p 0.8.1 drops some TCP sockets without closing them (seen when a
    connection is replaced or torn down during shutdown). Collect them here, quietly,
    so their ResourceWarning does not surface as an unrelated error later. dms closes
    its hosts explicitly (Network.serve calls host.close() on the way out)."""
    yield
    import gc
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()
