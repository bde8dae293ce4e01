"""Three daemons with no bootstrap list find each other through mDNS alone."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from dms.testing.cluster import status
from dms.testing.daemon import start_daemon

pytestmark = [pytest.mark.functional, pytest.mark.slow]


def test_three_daemons_discover_each_other_with_mdns(tmp_path: Path) -> None:
    nodes = [start_daemon(tmp_path / f"m{i}", args=["--set", "network.mdns=true"]) for i in range(3)]
    try:
        ids = {status(d)["peer_id"] for d in nodes}
        deadline = time.monotonic() + 60
        seen: dict[str, set[str]] = {}
        while time.monotonic() < deadline:
            for d in nodes:
                r = d.cli("peers", "list", "--json")
                assert r.returncode == 0, r.stderr
                seen[str(d.home)] = {p["peer_id"] for p in json.loads(r.stdout)["peers"]}
            if all(len(s) == 2 for s in seen.values()):
                break
            time.sleep(0.5)
        for d in nodes:
            me = status(d)["peer_id"]
            assert seen[str(d.home)] == ids - {me}, f"{d.home}: {seen[str(d.home)]}"
    finally:
        for d in nodes:
            d.stop()
