"""The public surface of dms.actor and dms.network is pinned."""

from __future__ import annotations

import pytest

import dms.actor
import dms.network

pytestmark = pytest.mark.unit


def test_actor_public_names() -> None:
    assert sorted(dms.actor.__all__) == [
        "Actor", "AllowList", "Authorizer", "Dispatcher", "Envelope", "Handle", "Handler",
        "Message", "NonceCache", "Reply", "Router", "ability_implies", "sign", "verify"]
    for name in dms.actor.__all__:
        assert getattr(dms.actor, name) is not None


def test_network_public_names() -> None:
    assert sorted(dms.network.__all__) == ["GossipSettings", "MSG_PROTOCOL", "Network",
                                           "NetworkSettings", "PeerInfo"]


@pytest.mark.parametrize(("granted", "wanted", "ok"), [
    ("/", "/dms/node/peers/list", True), ("/dms/node", "/dms/node/peers/list", True),
    ("/dms/node", "/dms/node", True), ("/dms/node", "/dms/nodes", False),
    ("/dms/node/peers/list", "/dms/node", False)])
def test_ability_prefix_implication(granted: str, wanted: str, ok: bool) -> None:
    assert dms.actor.ability_implies(granted, wanted) is ok
