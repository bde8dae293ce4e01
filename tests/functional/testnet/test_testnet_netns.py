"""Real namespaces, real shaping, real teardown (root)."""

import json
import subprocess
import sys
import time

import pytest

from dms.testnet import netns, plan
from dms.testnet.net import Testnet

pytestmark = [pytest.mark.functional, pytest.mark.netns]

ECHO_PORT = 7000


def _echo_everywhere(tn):
    procs = [tn.spawn(nd, [sys.executable, "-m", "dms.testnet.probe", "echo", "--bind", nd.ip,
                           "--port", str(ECHO_PORT)], stdout=subprocess.PIPE)
             for nd in tn.nodes]
    for p in procs:  # wait for "echo ready"
        assert p.stdout is not None
        assert p.stdout.readline().strip() == b"echo ready"
    return procs


def _rtt(tn, src, dst, count=5):
    argv = ["ip", "netns", "exec", src.netns, sys.executable, "-m", "dms.testnet.probe", "rtt",
            "--to", dst.ip, "--port", str(ECHO_PORT), "--count", str(count)]
    cp = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=True)
    return json.loads(cp.stdout)


def _assert_gone(names, tdir, pids):
    left = netns.find(names)
    assert left.empty, left
    assert not any(n.startswith(names.netns_prefix) for n in netns.list_netns())
    assert not any(names.owns_link(ln) for ln in netns.list_links())
    assert not tdir.exists()
    for pid in pids:
        assert not netns._alive(pid), f"process {pid} survived down"


def test_three_namespaces_with_30ms_delay_and_a_clean_down(need_netns, tmp_path):
    tdir = tmp_path / "tn"
    tn = Testnet(tdir)
    nodes = tn.up(3, latency="30ms", daemons=False)
    names = plan.Names(tn.state.id)
    procs = []
    try:
        assert [nd.netns for nd in nodes] == [names.netns(i) for i in range(3)]
        assert set(netns.list_netns()) >= {nd.netns for nd in nodes}
        procs = _echo_everywhere(tn)
        for a, b in [(0, 1), (0, 2), (1, 2)]:
            r = _rtt(tn, nodes[a], nodes[b])
            assert r["lost"] == 0
            # each node delays what it sends by 30ms: a round trip is at least 60ms
            assert r["min_ms"] >= 2 * 30 * 0.95, r
        # a node's own loopback is not shaped
        cp = subprocess.run(["ip", "netns", "exec", nodes[0].netns, "ip", "-br", "addr"],
                            capture_output=True, text=True, check=True)
        assert nodes[0].ip in cp.stdout and "lo" in cp.stdout
    finally:
        pids = [p.pid for p in procs] + netns.switch_pids(names.tid)
        left = tn.down()
    assert left.empty
    _assert_gone(names, tdir, pids)


def test_down_from_another_process_after_a_crash(need_netns, tmp_path):
    """`dms testnet down` finds everything by the id, though it started nothing itself."""
    tdir = tmp_path / "tn"
    cp = subprocess.run([sys.executable, "-c",
                         "import sys; from dms.cli.testnet_cmds import testnet; testnet()", "up",
                         "--nodes", "2", "--latency", "5ms", "--no-daemons", "--dir", str(tdir)],
                        capture_output=True, text=True, timeout=60, check=False)
    assert cp.returncode == 0, cp.stderr
    state = json.loads((tdir / "state.json").read_text())
    names = plan.Names(state["id"])
    tn = Testnet.open(tdir)
    sleeper = tn.spawn("node1", ["sleep", "600"])  # an orphan the next process must find
    orphan = sleeper.pid
    del tn  # "crash": the object that spawned it is gone
    time.sleep(0.1)
    cp = subprocess.run([sys.executable, "-c",
                         "from dms.cli.testnet_cmds import testnet; testnet()", "down",
                         "--dir", str(tdir)], capture_output=True, text=True, timeout=60,
                        check=False)
    assert cp.returncode == 0, cp.stderr
    sleeper.wait(timeout=10)
    _assert_gone(names, tdir, [orphan])


def test_bridge_mode_connects_and_leaves_nothing(need_netns, tmp_path):
    """The netem path: a kernel bridge (here unshaped when the kernel lacks netem)."""
    tn = Testnet(tmp_path / "tn")
    nodes = tn.up(2, shaper="netem", daemons=False)
    names = plan.Names(tn.state.id)
    try:
        assert names.bridge in netns.list_links()
        _echo_everywhere(tn)
        assert _rtt(tn, nodes[0], nodes[1], count=3)["lost"] == 0
    finally:
        tn.down()
    _assert_gone(names, tmp_path / "tn", [])
    rules = subprocess.run(["iptables", "-S", "FORWARD"], capture_output=True, text=True,
                           check=False).stdout
    assert names.bridge not in rules


def test_orphans_are_found_by_id_when_the_dir_is_gone(need_netns, tmp_path):
    import shutil

    from dms.testnet.net import down_by_id

    tdir = tmp_path / "tn"
    cp = subprocess.run([sys.executable, "-c",
                         "from dms.cli.testnet_cmds import testnet; testnet()", "up",
                         "--nodes", "2", "--latency", "1ms", "--no-daemons", "--dir", str(tdir)],
                        capture_output=True, text=True, timeout=60, check=False)
    assert cp.returncode == 0, cp.stderr
    names = plan.Names(json.loads((tdir / "state.json").read_text())["id"])
    switch = netns.switch_pids(names.tid)
    shutil.rmtree(tdir)  # the state is lost with the dir
    assert names.tid in netns.testnet_ids_present()
    assert down_by_id(names.tid).empty
    assert names.tid not in netns.testnet_ids_present()
    _assert_gone(names, tdir, switch)
