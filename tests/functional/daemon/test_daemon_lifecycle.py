from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import httpx
import pytest

from dms.testing.daemon import Daemon, base_env, dms_argv, free_port, start_daemon

pytestmark = pytest.mark.functional


def test_health_status_and_runtime_file(daemon: Daemon) -> None:
    assert httpx.get(daemon.url + "/health").json() == {"status": "ok"}
    runtime = json.loads((daemon.home / "runtime.json").read_text())
    assert runtime["api_port"] == daemon.api_port and runtime["pid"] == daemon.proc.pid
    r = daemon.cli("status", "--json")
    assert r.returncode == 0, r.stderr
    st = json.loads(r.stdout)
    assert st["did"].startswith("did:key:z6Mk") and st["api_port"] == daemon.api_port
    human = daemon.cli("status")
    assert human.returncode == 0 and st["did"] in human.stdout


def test_keys_created_encrypted_and_private(daemon: Daemon) -> None:
    keys = daemon.home / "keys"
    assert (keys.stat().st_mode & 0o777) == 0o700
    files = sorted(p.name for p in keys.iterdir())
    assert files == ["dms.json", "user.json"]
    for f in keys.iterdir():
        assert (f.stat().st_mode & 0o777) == 0o600
    r = daemon.cli("key", "list", "--json")
    assert r.returncode == 0, r.stderr
    names = {k["name"] for k in json.loads(r.stdout)}
    assert names == {"dms", "user"}


def test_second_daemon_on_same_home_refused(daemon: Daemon) -> None:
    proc = subprocess.run([*dms_argv(), "run", "--home", str(daemon.home), "--api-port",
                           str(free_port())], env=daemon.env, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 1
    assert "already running" in proc.stderr and str(daemon.proc.pid) in proc.stderr
    assert "--home" in proc.stderr  # the hint says what to do
    assert httpx.get(daemon.url + "/health").status_code == 200  # first one unharmed


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_clean_shutdown_on_signal(tmp_path: Path, sig: int) -> None:
    d = start_daemon(tmp_path / "home")
    assert d.stop(sig) == 0
    assert not (d.home / "runtime.json").exists()
    assert "stopped" in d.log()
    # the lock is free again: a new daemon starts on the same home
    d2 = start_daemon(d.home)
    assert d2.stop() == 0


def test_status_without_daemon_says_how_to_start(tmp_path: Path) -> None:
    home = tmp_path / "nohome"
    r = subprocess.run([*dms_argv(), "status", "--home", str(home), "--api-port",
                        str(free_port())], env=base_env(home), capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 2
    assert "no dms daemon" in r.stderr and "dms run" in r.stderr


def test_wrong_passphrase_is_a_clear_error(tmp_path: Path) -> None:
    d = start_daemon(tmp_path / "home")
    d.stop()
    env = base_env(d.home, {"DMS_PASSPHRASE": "not-the-passphrase"})
    r = subprocess.run([*dms_argv(), "run", "--home", str(d.home), "--api-port", str(free_port())],
                       env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    assert "passphrase" in r.stderr.lower()
    assert "not-the-passphrase" not in r.stderr


def test_port_in_use_is_a_clear_error(daemon: Daemon, tmp_path: Path) -> None:
    env = base_env(tmp_path / "h2")
    r = subprocess.run([*dms_argv(), "run", "--home", str(tmp_path / "h2"), "--api-port",
                        str(daemon.api_port)], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    assert "cannot listen" in r.stderr and "--api-port" in r.stderr


def test_log_level_changes_at_runtime(daemon: Daemon) -> None:
    """`dms log-level debug` turns on debug lines in the running daemon; a bad level is
    refused by the CLI before any call."""
    assert daemon.cli("log-level").stdout.strip() == "info"
    before = daemon.log().count(" DEBUG ")
    r = daemon.cli("log-level", "debug", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"level": "debug"}
    daemon.cli("onboarding", "status")  # a call the node logs at debug
    assert daemon.log().count(" DEBUG ") > before
    assert "dms.actor.dispatcher: /dms/node/onboarding/status from did:key:" in daemon.log()
    assert daemon.cli("log-level", "info").stdout.strip() == "info"
    bad = daemon.cli("log-level", "loud")
    assert bad.returncode == 2 and "loud" in bad.stderr


def test_actor_send_delivers_without_a_reply(daemon: Daemon) -> None:
    """`dms actor send` only delivers: the behavior still runs (the log level changes)."""
    import time

    r = daemon.cli("actor", "send", "/dms/node/logger/config", "-p", '{"level": "warning"}')
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "sent"
    deadline = time.monotonic() + 10
    while daemon.cli("log-level").stdout.strip() != "warning" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert daemon.cli("actor", "invoke", "/dms/node/logger/config").stdout.count("warning") == 1
