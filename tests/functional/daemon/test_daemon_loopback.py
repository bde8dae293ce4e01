"""The API refuses non-loopback peers even when bound to every address."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from dms.testing.daemon import start_daemon

pytestmark = [pytest.mark.functional, pytest.mark.netns]

IFACE = "dmstest-lo0"
ADDR = "192.0.2.77"  # TEST-NET-1 (RFC 5737): documentation range, only on our dummy iface


@pytest.fixture
def dummy_address() -> Iterator[str]:
    """A non-loopback address of this machine, on a dummy interface we create."""
    subprocess.run(["ip", "link", "del", IFACE], capture_output=True)
    subprocess.run(["ip", "link", "add", IFACE, "type", "dummy"], check=True)
    try:
        subprocess.run(["ip", "addr", "add", f"{ADDR}/32", "dev", IFACE], check=True)
        subprocess.run(["ip", "link", "set", IFACE, "up"], check=True)
        yield ADDR
    finally:
        subprocess.run(["ip", "link", "del", IFACE], capture_output=True)


def test_bound_everywhere_still_refuses_non_loopback(tmp_path: Path, dummy_address: str) -> None:
    d = start_daemon(tmp_path / "home", args=["--set", "api.host=0.0.0.0"])
    try:
        assert httpx.get(d.url + "/health").status_code == 200
        r = httpx.get(f"http://{dummy_address}:{d.api_port}/health")
        assert r.status_code == 403
        assert r.json()["error"]["code"] == "forbidden"
        assert dummy_address in r.json()["error"]["message"]
    finally:
        d.stop()
