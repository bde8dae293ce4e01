"""Three real daemons on loopback: discovery, peers, hello, capabilities, revocation,
all through the real CLI (signed with each person's `user` key)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from dms.testing.cluster import Cluster, start_cluster

pytestmark = [pytest.mark.functional, pytest.mark.slow]


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    c = start_cluster(tmp_path_factory.mktemp("net3"), 3)
    try:
        yield c
    finally:
        c.stop()


def cli_json(d, *args: str):
    r = d.cli(*args, "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def user_did(d) -> str:
    return cli_json(d, "key", "did", "user")["did"]


def test_bootstrap_discovery_and_peer_list(net: Cluster) -> None:
    ids = {i["peer_id"] for i in net.info}
    # node 0 is everyone's bootstrap: it sees both others
    listed = {p["peer_id"] for p in cli_json(net[0], "peers", "list")["peers"]}
    assert listed == ids - {net.info[0]["peer_id"]}


def test_ping_and_public_hello_to_a_remote_node(net: Cluster) -> None:
    bob = net.info[1]["peer_id"]
    ping = cli_json(net[0], "peers", "ping", bob, "-c", "2")
    assert ping["peer_id"] == bob and len(ping["rtt_ms"]) == 2
    assert all(x > 0 for x in ping["rtt_ms"])
    r = net[0].cli("actor", "cmd", "/public/hello", "--dest", bob)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["did"] == net.info[1]["did"]


def test_broadcast_hello_collects_every_node(net: Cluster) -> None:
    answers = cli_json(net[0], "hello", "--window", "2")
    assert {a["peer_id"] for a in answers} == {net.info[1]["peer_id"], net.info[2]["peer_id"]}


def test_capabilities_grant_refuse_and_revoke_everywhere(net: Cluster) -> None:
    alice, bob = net[0], net[1]
    bob_id, carol_id = net.info[1]["peer_id"], net.info[2]["peer_id"]
    # Alice (the person) has no capability on Bob: refused at once, with the reason
    t0 = time.monotonic()
    r = alice.cli("actor", "cmd", "/dms/node/status", "--dest", bob_id, "-t", "20")
    assert r.returncode == 1
    assert time.monotonic() - t0 < 15, "refusal must not wait for a timeout"
    assert "/dms/node/status" in r.stderr and "hint:" in r.stderr
    # Bob's node grants her /dms/node (status and friends); she keeps it as a proof
    token = bob.cli("cap", "grant", "-c", "dms", "--to", user_did(alice), "--cap", "/dms/node/status",
                    "--expiry", "1h")
    assert token.returncode == 0, token.stderr
    tok = token.stdout.strip()
    assert alice.cli("cap", "anchor", "-c", "user", "--provide", tok).returncode == 0
    ok = alice.cli("actor", "cmd", "/dms/node/status", "--dest", bob_id)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["peer_id"] == bob_id
    # Carol trusts Bob's node as a root, so the same token works there too
    ok2 = alice.cli("actor", "cmd", "/dms/node/status", "--dest", carol_id)
    assert ok2.returncode == 0, ok2.stderr
    # ... but not for a behavior it does not cover
    other = alice.cli("actor", "cmd", "/dms/node/resources/free", "--dest", bob_id)
    assert other.returncode == 1 and "/dms/node/resources/free" in other.stderr
    # Bob revokes it; the revocation spreads, and both nodes refuse her
    rv = bob.cli("cap", "revoke", "-c", "dms", tok)
    assert rv.returncode == 0 and "told the network" in rv.stdout, rv.stderr
    deadline = time.monotonic() + 20
    refused: set[str] = set()
    while time.monotonic() < deadline and len(refused) < 2:
        for pid in (bob_id, carol_id):
            r = alice.cli("actor", "cmd", "/dms/node/status", "--dest", pid, "-t", "10")
            if r.returncode == 1 and "revoked" in r.stderr.lower():
                refused.add(pid)
        time.sleep(0.3)
    assert refused == {bob_id, carol_id}


def test_unknown_behavior_is_answered_not_dropped(net: Cluster) -> None:
    t0 = time.monotonic()
    r = net[0].cli("actor", "cmd", "/dms/node/no-such-thing", "-t", "20")
    assert r.returncode == 1
    assert time.monotonic() - t0 < 15
    assert "no-such-thing" in r.stderr
