"""Real dms daemons in a testnet."""

import json

import pytest

from dms.testnet import netns, plan
from dms.testnet.fixture import testnet as make_testnet

pytestmark = [pytest.mark.functional, pytest.mark.slow]


@pytest.mark.netns
def test_three_daemons_in_namespaces_answer_and_go_away(need_netns, tmp_path):
    with make_testnet(3, latency="10ms", base_dir=tmp_path / "tn") as tn:
        names = plan.Names(tn.state.id)
        pids = [nd.pid for nd in tn.nodes]
        assert all(s.healthy for s in tn.status())
        dids = set()
        for nd in tn.nodes:
            cp = tn.exec(nd, ["status", "--json"])
            assert cp.returncode == 0, cp.stderr
            info = json.loads(cp.stdout)
            assert info["did"] == nd.did and info["api_port"] == nd.api_port
            dids.add(nd.did)
        assert len(dids) == 3 and all(d.startswith("did:key:z6Mk") for d in dids)
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
