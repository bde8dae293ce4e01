import pytest
from click.testing import CliRunner

from dms.cli import testnet_cmds
from dms.cli.testnet_cmds import node_table
from dms.testnet.state import NodeInfo

pytestmark = pytest.mark.unit


def test_table_has_the_columns_the_issue_asks_for():
    nodes = [NodeInfo(name="node0", home="/h", api_port=9999, p2p_addr="/ip4/10.1.2.2/tcp/4001",
                      did="did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
                      peer_id="12D3KooWabc")]
    lines = node_table(nodes).splitlines()
    assert lines[0].split() == ["NAME", "DID", "PEER", "ID", "ADDRESS", "API", "PORT"]
    row = lines[1].split()
    assert row[0] == "node0" and row[2] == "12D3KooWabc" and row[-1] == "9999"
    assert row[1].startswith("did:key:z6") and "..." in row[1]  # shortened, still recognisable


def test_status_without_a_testnet_says_how_to_start_one(tmp_path):
    r = CliRunner().invoke(testnet_cmds.testnet, ["status", "--dir", str(tmp_path)])
    assert r.exit_code == 1
    assert "no testnet" in r.output and "dms testnet up" in r.output


def test_loopback_cannot_shape(tmp_path):
    r = CliRunner().invoke(testnet_cmds.testnet, ["up", "--loopback", "--latency", "30ms",
                                     "--dir", str(tmp_path / "t")])
    assert r.exit_code == 1
    assert "cannot shape" in r.output
    assert not (tmp_path / "t").exists()  # nothing made before validation


def test_bad_units_are_reported_with_a_hint(tmp_path):
    r = CliRunner().invoke(testnet_cmds.testnet, ["up", "--latency", "fast", "--dir", str(tmp_path / "t")])
    assert r.exit_code == 1
    assert "not a duration" in r.output and "40ms" in r.output


def test_is_a_plain_click_group():
    import click

    assert isinstance(testnet_cmds.testnet, click.Group)
    assert set(testnet_cmds.testnet.commands) == {"up", "status", "exec", "logs", "restart", "down"}
