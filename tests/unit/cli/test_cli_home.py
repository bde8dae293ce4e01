"""--home works on every level of the command and wins over $DMS_HOME."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from dms.cli.main import cli

pytestmark = pytest.mark.unit


def _keys(runner: CliRunner, *argv: str, env: dict[str, str]) -> list[str]:
    r = runner.invoke(cli, list(argv), env=env, catch_exceptions=False)
    assert r.exit_code == 0, r.output
    return sorted(k["name"] for k in json.loads(r.output))


@pytest.mark.parametrize("argv", [
    ("--home", "{a}", "key", "list", "--json"),
    ("key", "--home", "{a}", "list", "--json"),
    ("key", "list", "--json", "--home", "{a}"),
    ("--home", "{b}", "key", "list", "--json", "--home", "{a}"),  # the nearest wins
])
def test_home_on_any_level(tmp_path: Path, argv: tuple[str, ...]) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    env = {"DMS_PASSPHRASE": "correct horse", "DMS_HOME": str(b)}
    runner = CliRunner()
    r = runner.invoke(cli, ["key", "new", "only-in-a", "--home", str(a)], env=env,
                      catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert _keys(runner, "key", "list", "--json", env=env) == []  # $DMS_HOME is b
    got = _keys(runner, *(x.format(a=a, b=b) for x in argv), env=env)
    assert got == ["only-in-a"]
