import json
import stat

import pytest

from dms.errors import NotFound
from dms.testnet import launch
from dms.testnet import state as st
from dms.testnet.state import NodeInfo, TestnetState

pytestmark = pytest.mark.unit


def _state(tmp_path):
    nodes = [NodeInfo(name=f"node{i}", home=str(tmp_path / f"node{i}/home"), api_port=9999,
                      p2p_addr=f"/ip4/10.1.2.{i + 2}/tcp/4001", netns=f"dms-abcdef-{i}",
                      ip=f"10.1.2.{i + 2}", pid=100 + i) for i in range(3)]
    return TestnetState(id="abcdef", dir=str(tmp_path), mode="netns", shaper="switch",
                        delay_ms=30, subnet="10.1.2.0/24", nodes=nodes)


def test_state_round_trips_through_json(tmp_path):
    s = _state(tmp_path)
    st.save(s)
    back = st.load(tmp_path)
    assert back == s
    assert json.loads((tmp_path / "state.json").read_text())["nodes"][2]["pid"] == 102


def test_nodes_by_name_or_index(tmp_path):
    s = _state(tmp_path)
    assert s.node("node1") is s.nodes[1]
    assert s.node(2) is s.nodes[2]
    with pytest.raises(NotFound) as e:
        s.node("node7")
    assert "node0, node1, node2" in e.value.hint


def test_missing_state_tells_how_to_start_one(tmp_path):
    with pytest.raises(NotFound) as e:
        st.load(tmp_path)
    assert "dms testnet up" in e.value.hint


def test_resolve_dir_prefers_flag_then_env(tmp_path, monkeypatch):
    monkeypatch.setenv("DMS_TESTNET_DIR", str(tmp_path / "env"))
    assert st.resolve_dir(tmp_path / "flag") == tmp_path / "flag"
    assert st.resolve_dir() == tmp_path / "env"
    assert st.default_dir("abcdef") == tmp_path / "env"
    monkeypatch.delenv("DMS_TESTNET_DIR")
    assert st.default_dir("abcdef") == st.ROOT / "abcdef"


def test_secret_is_owner_only(tmp_path):
    p = tmp_path / "passphrase"
    st.write_secret(p, "s3cret")
    assert p.read_text() == "s3cret"
    assert stat.S_IMODE(p.stat().st_mode) == 0o600


def test_daemon_and_cli_run_inside_the_namespace(tmp_path):
    node = _state(tmp_path).nodes[1]
    argv = launch.daemon_argv(node)
    assert argv[:4] == ["ip", "netns", "exec", "dms-abcdef-1"]
    assert argv[4].endswith("dms")
    assert argv[5:] == ["run", "--home", node.home, "--api-port", "9999"]
    assert launch.cli_argv(node, ["status", "--json"])[-2:] == ["status", "--json"]


def test_loopback_nodes_run_on_the_host(tmp_path):
    node = NodeInfo(name="node0", home=str(tmp_path), api_port=12345)
    assert launch.daemon_argv(node)[1:] == ["run", "--home", str(tmp_path), "--api-port",
                                            "12345"]


def test_node_env_carries_home_port_and_passphrase(tmp_path):
    node = _state(tmp_path).nodes[0]
    env = launch.node_env(node, "pw", base={"PATH": "/bin", "DMS_TESTNET_DIR": "/x"})
    assert env == {"PATH": "/bin", "DMS_HOME": node.home, "DMS_API_PORT": "9999",
                   "DMS_PASSPHRASE": "pw", "PYTHONUNBUFFERED": "1"}


def test_node_config_only_writes_keys_the_schema_knows():
    from dms.config.schema import Config

    cfg = launch.node_config("/ip4/10.1.2.2/tcp/4001", ["/ip4/10.1.2.2/tcp/4001/p2p/Qm"],
                             {"deployment.bid_window_s": 2.0, "no.such.key": 1})
    parsed = Config.model_validate(cfg)  # the daemon accepts what we write
    assert parsed.network.listen_addrs == ["/ip4/10.1.2.2/tcp/4001"]
    assert parsed.network.bootstrap == ["/ip4/10.1.2.2/tcp/4001/p2p/Qm"]
    assert parsed.network.mdns is False  # testnets never mix through mDNS
    assert parsed.deployment.bid_window_s == 2.0
    assert "no" not in cfg


def test_node_zero_has_no_bootstrap():
    assert "bootstrap" not in launch.node_config("/ip4/10.1.2.2/tcp/4001", [])["network"]


def test_peer_id_from_did_matches_libp2p():
    from libp2p.crypto.ed25519 import create_new_key_pair
    from libp2p.peer.id import ID

    from dms.identity.did import did_from_public_key

    kp = create_new_key_pair(b"\x07" * 32)
    did = did_from_public_key(kp.public_key.to_bytes())
    pid = launch.peer_id_from_did(did)
    assert pid == ID.from_pubkey(kp.public_key).to_base58()
    assert pid.startswith("12D3KooW")
