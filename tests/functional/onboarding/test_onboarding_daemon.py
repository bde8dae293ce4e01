"""Onboarding on a running daemon through the CLI: benchmark stored, free == onboarded,
a deployment's commit and allocation take part of it and give it back, a restart keeps
all of it; bad input changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dms.testing.cluster import node_args
from dms.testing.daemon import Daemon, start_daemon

pytestmark = [pytest.mark.functional, pytest.mark.slow]
GiB = 2**30


def j(d: Daemon, *args: str):
    r = d.cli(*args, "--json", timeout=120)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_onboard_account_release_and_restart(tmp_path: Path) -> None:
    d = start_daemon(tmp_path / "home", args=node_args(budget_s=1.0))
    try:
        st = j(d, "onboard", "--cpu", "1", "--ram", "1GiB", "--disk", "2GiB")
        assert st["onboarded"] is True
        bench = st["benchmark"]
        assert bench["cpu_single_ops"] > 0 and bench["disk_write_mbps"] > 0
        assert bench["dms_version"] and bench["timestamp"] > 0
        onboarded = j(d, "resources", "onboarded")
        free = j(d, "resources", "free")
        assert (onboarded["cpu"]["cores"], onboarded["ram"]["size"], onboarded["disk"]["size"]) \
            == (1, GiB, 2 * GiB)
        assert free["cpu"]["cores"] == 1 and free["ram"]["size"] == GiB
        # bad input: clear errors, nothing changes
        for args, words in ((["--cpu", "512"], "cores"), (["--ram", "12 parsecs"], "ram"),
                            (["--gpus", "7:1GiB"], "GPU index 7")):
            full = {"--cpu": "1", "--ram": "1GiB", "--disk": "2GiB"}
            full.update(dict(zip(args[::2], args[1::2], strict=True)))
            r = d.cli("onboard", *[x for kv in full.items() for x in kv])
            assert r.returncode == 1 and "hint:" in r.stderr, r.stderr
            assert words.lower() in r.stderr.lower(), r.stderr
        assert j(d, "resources", "onboarded") == onboarded
        # a provider commit + allocation takes part of it, release gives it back
        call = ["actor", "cmd", "-p"]
        r = d.cli(*call, json.dumps({"ensemble_id": "e1", "node": "n", "expiry_s": 60,
                                     "resources": {"cpu": {"cores": 0.5}, "ram": {"size": GiB // 2},
                                                   "disk": {"size": GiB}}}),
                  "/dms/deployment/commit")
        assert r.returncode == 0, r.stderr
        free2 = j(d, "resources", "free")
        assert free2["cpu"]["cores"] == 0.5 and free2["ram"]["size"] == GiB // 2
        held = j(d, "resources", "allocated")
        assert "e1/n" in held["committed"]
        # restart: onboarding, benchmark and the live commitment are all still there
        assert d.stop() == 0
        d = start_daemon(d.home, args=node_args(budget_s=1.0))
        assert j(d, "resources", "onboarded") == onboarded
        assert j(d, "resources", "free") == free2
        st2 = j(d, "onboarding", "status")
        assert st2["benchmark"]["timestamp"] == bench["timestamp"]
        r = d.cli(*call, json.dumps({"ensemble_id": "e1", "node": "n"}), "/dms/deployment/revert")
        assert r.returncode == 0, r.stderr
        assert j(d, "resources", "free") == free
        # offboard, then nothing is offered
        assert j(d, "offboard")["offboarded"] is True
        assert j(d, "onboarding", "status")["onboarded"] is False
    finally:
        d.stop()
