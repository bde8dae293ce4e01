from __future__ import annotations

import json
from pathlib import Path

import pytest

from dms import config
from dms.errors import ConfigError

pytestmark = pytest.mark.unit


def test_defaults(home: Path) -> None:
    cfg = config.load(home, environ={})
    assert cfg.api.host == "127.0.0.1"
    assert cfg.api.port == 9999


def test_layering_file_env_flags(home: Path) -> None:
    (home / "config.json").write_text(json.dumps({"api": {"port": 1000}, "log": {"level": "debug"}}))
    cfg = config.load(home, environ={})
    assert (cfg.api.port, cfg.log.level) == (1000, "debug")
    cfg = config.load(home, environ={"DMS_API_PORT": "2000"})
    assert cfg.api.port == 2000 and cfg.log.level == "debug"
    cfg = config.load(home, environ={"DMS_API_PORT": "2000"}, flags={"api.port": 3000})
    assert cfg.api.port == 3000


def test_env_nested_separator_and_non_config_env_ignored(home: Path) -> None:
    cfg = config.load(home, environ={"DMS_DAEMON__WORK_DIR": "w2", "DMS_PASSPHRASE": "x",
                                     "DMS_HOME": "/nowhere", "DMS_NOT_A_KEY": "1"})
    assert cfg.daemon.work_dir == "w2"


def test_unknown_key_in_flags_names_key_and_suggests(home: Path) -> None:
    with pytest.raises(ConfigError) as ei:
        config.load(home, environ={}, flags={"api.prot": 1})
    assert "api.prot" in ei.value.message
    assert "api.port" in ei.value.hint


def test_unknown_key_in_file_rejected(home: Path) -> None:
    (home / "config.json").write_text(json.dumps({"api": {"colour": "red"}}))
    with pytest.raises(ConfigError) as ei:
        config.load(home, environ={})
    assert "api.colour" in ei.value.message


def test_bad_value_names_key_and_type(home: Path) -> None:
    with pytest.raises(ConfigError) as ei:
        config.load(home, environ={"DMS_API_PORT": "abc"})
    assert "api.port" in ei.value.message and "integer" in ei.value.message
    with pytest.raises(ConfigError) as ei:
        config.load(home, environ={}, flags={"api.port": 70000})
    assert "api.port" in ei.value.message


def test_broken_file_is_clear(home: Path) -> None:
    (home / "config.json").write_text("{not json")
    with pytest.raises(ConfigError) as ei:
        config.load(home, environ={})
    assert "config.json" in ei.value.message


def test_set_validates_and_persists(home: Path) -> None:
    assert config.set_value(home, "api.port", "9100") == 9100
    assert config.set_value(home, "store.path", "other.db") == "other.db"
    assert json.loads((home / "config.json").read_text()) == {"api": {"port": 9100},
                                                                "store": {"path": "other.db"}}
    with pytest.raises(ConfigError):
        config.set_value(home, "api.port", "not-a-port")
    with pytest.raises(ConfigError):
        config.set_value(home, "api", "1")
    assert config.load(home, environ={}).api.port == 9100


def test_describe_lists_every_leaf_with_description() -> None:
    rows = config.describe()
    keys = {r[0] for r in rows}
    assert {"api.port", "api.host", "log.level", "store.path"} <= keys
    assert all(r[3] for r in rows), "every config field needs a description"
