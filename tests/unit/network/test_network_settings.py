"""Settings, swarm keys and error translation at the network boundary."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio
from libp2p.network.exceptions import SwarmException

from dms.crypto.keys import SigningKey
from dms.errors import ConfigError, DMSError, NetworkError, Timeout
from dms.identity.did import public_key_from_did
from dms.network import NetworkSettings
from dms.network.errors import network_errors, translate
from dms.network.host import connection_config, host_key_pair, peer_id_of, read_swarm_key
from dms.network.settings import GossipSettings

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("model", [NetworkSettings, GossipSettings])
def test_every_setting_is_documented(model: type) -> None:
    for name, field in model.model_fields.items():
        assert field.description, f"{model.__name__}.{name} has no description"


def test_defaults_are_sane() -> None:
    s = NetworkSettings()
    assert s.listen_addrs == ["/ip4/0.0.0.0/tcp/9000"] and s.mdns and s.dht
    assert s.psk_file is None and s.bootstrap == []
    with pytest.raises(ValueError):
        NetworkSettings(max_peers=0)
    with pytest.raises(ValueError):
        NetworkSettings(unknown_field=1)  # type: ignore[call-arg]


def test_one_connection_per_peer_and_peer_limit() -> None:
    cfg = connection_config(NetworkSettings(max_peers=7))
    assert cfg.max_connections_per_peer == 1  # ends the 250 ms happy-eyeballs wait
    assert cfg.max_connections == 7


def test_peer_id_and_did_share_the_node_key() -> None:
    key = SigningKey(bytes(range(32)))
    kp = host_key_pair(key)
    assert kp.public_key.to_bytes() == public_key_from_did(key.did)
    assert peer_id_of(key).to_base58().startswith("12D3KooW")


def test_swarm_key_file_formats(tmp_path: Path) -> None:
    hexkey = "ab" * 32
    go = tmp_path / "swarm.key"
    go.write_text(f"/key/swarm/psk/1.0.0/\n/base16/\n{hexkey}\n")
    bare = tmp_path / "bare.key"
    bare.write_text(hexkey.upper())
    assert read_swarm_key(go) == hexkey
    assert read_swarm_key(bare) == hexkey


@pytest.mark.parametrize("text", ["/key/swarm/psk/1.0.0/\n/base64/\nabc\n", "ab" * 31, ""])
def test_bad_swarm_keys_say_how_to_fix_them(tmp_path: Path, text: str) -> None:
    p = tmp_path / "k"
    p.write_text(text)
    with pytest.raises(ConfigError) as ei:
        read_swarm_key(p)
    assert ei.value.hint
    with pytest.raises(ConfigError):
        read_swarm_key(tmp_path / "missing")


def test_nested_exception_groups_become_network_errors() -> None:
    eg = ExceptionGroup("outer", [ExceptionGroup("inner", [SwarmException("dial refused")])])
    err = translate(eg, "dial X")
    assert isinstance(err, NetworkError) and "dial refused" in err.message and err.hint
    assert isinstance(translate(ExceptionGroup("g", [trio.TooSlowError()]), "dial X"), Timeout)
    mine = ConfigError("bad")
    assert translate(ExceptionGroup("g", [mine]), "x") is mine


def test_context_manager_chains_and_lets_other_errors_through() -> None:
    with pytest.raises(NetworkError) as ei, network_errors("open stream"):
        raise ExceptionGroup("g", [OSError("connection reset")])
    assert isinstance(ei.value.__cause__, ExceptionGroup)
    with pytest.raises(KeyError), network_errors("x"):
        raise KeyError("a bug is not a network failure")
    with pytest.raises(DMSError), network_errors("x"):
        raise ConfigError("kept as it is")
