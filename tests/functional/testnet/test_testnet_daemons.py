"""Real dms daemons in a testnet."""

import json
import time

import pytest

from dms.testnet import netns, plan
from dms.testnet.fixture import testnet as make_testnet

pytestmark = [pytest.mark.functional, pytest.mark.slow]


def _eventually(fn, timeout_s=20.0):
    """fn() until it returns something truthy; the last value otherwise."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = fn()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.3)


def _json(tn, node, args):
    cp = tn.exec(node, [*args, "--json"])
    assert cp.returncode == 0, f"dms {' '.join(args)} on {node}: {cp.stderr}"
    return json.loads(cp.stdout)


@pytest.mark.netns
def test_three_daemons_in_namespaces_find_each_other_over_30ms_links(need_netns, tmp_path):
    with make_testnet(3, latency="30ms", base_dir=tmp_path / "tn") as tn:
        names = plan.Names(tn.state.id)
        n0, n1, n2 = tn.nodes
        pids = [nd.pid for nd in tn.nodes]
        assert all(s.healthy for s in tn.status())
        for nd in tn.nodes:
            info = _json(tn, nd, ["status"])
            assert info["did"] == nd.did and nd.did.startswith("did:key:z6Mk")
            assert nd.peer_id.startswith("12D3KooW")
        assert len({nd.did for nd in tn.nodes}) == 3

        # node0 is the bootstrap peer: the others dial it
        def peers_of_node0():
            got = {p["peer_id"] for p in _json(tn, n0, ["peers"])["peers"]}
            return got >= {n1.peer_id, n2.peer_id}
        assert _eventually(peers_of_node0), "node1 and node2 never connected to node0"

        answered = {r["peer_id"] for r in _json(tn, n0, ["hello", "--window", "2"])}
        assert answered >= {n1.peer_id, n2.peer_id}

        # trust: node0's person may call node2 (a chain rooted at the organization)
        assert tn.state.org_did.startswith("did:key:z6Mk")
        r = tn.exec(n0, ["actor", "cmd", "/dms/node/status", "--dest", n2.peer_id])
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["peer_id"] == n2.peer_id

        # the link adds 30ms each way: a libp2p ping takes at least 60ms
        ping = _json(tn, n2, ["peers", "ping", n0.peer_id, "-c", "3"])
        assert min(ping["rtt_ms"]) >= 2 * 30 * 0.95, ping
    assert netns.find(names).empty
    assert not any(netns._alive(p) for p in pids)
    assert not (tmp_path / "tn").exists()


def test_loopback_daemons(tmp_path):
    with make_testnet(2, loopback=True, base_dir=tmp_path / "tn") as tn:
        ports = {nd.api_port for nd in tn.nodes}
        assert len(ports) == 2
        cp = tn.exec("node1", ["status"])
        assert cp.returncode == 0 and tn.node(1).did in cp.stdout
        assert "ready" in tn.logs("node1").read_text()
        pids = [nd.pid for nd in tn.nodes]
    assert not any(netns._alive(p) for p in pids)


def test_restart_a_node_from_the_cli(tmp_path):
    """`dms testnet restart node1 --crash`: a new process on the same home and addresses,
    back among its peers; down still removes everything."""
    import subprocess
    import sys

    tdir = tmp_path / "tn"
    cli = [sys.executable, "-m", "dms.cli.main", "testnet"]
    up = subprocess.run([*cli, "up", "--nodes", "2", "--loopback", "--dir", str(tdir)],
                        capture_output=True, text=True, timeout=120, check=False)
    assert up.returncode == 0, up.stderr
    try:
        before = json.loads((tdir / "state.json").read_text())["nodes"][1]
        r = subprocess.run([*cli, "restart", "node1", "--crash", "--dir", str(tdir)],
                           capture_output=True, text=True, timeout=120, check=False)
        assert r.returncode == 0, r.stderr
        assert "crashed and healthy again" in r.stdout
        after = json.loads((tdir / "state.json").read_text())["nodes"][1]
        assert after["pid"] != before["pid"] and not netns._alive(before["pid"])
        assert (after["api_port"], after["p2p_addr"]) == (before["api_port"], before["p2p_addr"])
        st = subprocess.run([*cli, "exec", "node1", "--dir", str(tdir), "--", "peers", "--json"],
                            capture_output=True, text=True, timeout=60, check=False)
        assert st.returncode == 0, st.stderr
    finally:
        subprocess.run([*cli, "down", "--dir", str(tdir)], capture_output=True, timeout=120,
                       check=False)
    assert not netns._alive(after["pid"])
