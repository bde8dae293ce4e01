"""The API refuses non-loopback peers even when bound to every address.

A client in its own network namespace (a veth pair we create, link-local addresses
from a /30 that exist only on those two interfaces) plays the remote peer.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from dms.testing.daemon import start_daemon

pytestmark = [pytest.mark.functional, pytest.mark.netns]

HOST_ADDR, PEER_ADDR = "169.254.77.1", "169.254.77.2"


def ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check)


@pytest.fixture
def remote_peer() -> Iterator[str]:
    """Name of a netns that reaches this host at HOST_ADDR from PEER_ADDR."""
    tag = uuid.uuid4().hex[:6]
    ns, host_if, peer_if = f"dmslb-{tag}", f"dmslbh{tag}", f"dmslbp{tag}"
    ip("netns", "add", ns)
    try:
        ip("link", "add", host_if, "type", "veth", "peer", "name", peer_if)
        ip("link", "set", peer_if, "netns", ns)
        ip("addr", "add", f"{HOST_ADDR}/30", "dev", host_if)
        ip("link", "set", host_if, "up")
        ip("-n", ns, "addr", "add", f"{PEER_ADDR}/30", "dev", peer_if)
        ip("-n", ns, "link", "set", peer_if, "up")
        ip("-n", ns, "link", "set", "lo", "up")
        yield ns
    finally:
        ip("link", "del", host_if, check=False)
        ip("netns", "del", ns, check=False)


def test_bound_everywhere_still_refuses_non_loopback(tmp_path: Path, remote_peer: str) -> None:
    d = start_daemon(tmp_path / "home", args=["--set", "api.host=0.0.0.0"])
    try:
        assert httpx.get(d.url + "/health").status_code == 200
        probe = ("import httpx,sys; r=httpx.get(sys.argv[1]); print(r.status_code); print(r.text)")
        out = subprocess.run(["ip", "netns", "exec", remote_peer, sys.executable,
                              "-c", probe, f"http://{HOST_ADDR}:{d.api_port}/health"],
                             capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, out.stderr
        status, body = out.stdout.split("\n", 1)
        assert status == "403"
        assert '"forbidden"' in body and PEER_ADDR in body
    finally:
        d.stop()


def test_default_bind_is_loopback_only(tmp_path: Path, remote_peer: str) -> None:
    d = start_daemon(tmp_path / "home")
    try:
        probe = "import httpx,sys\ntry:\n httpx.get(sys.argv[1], timeout=3)\nexcept httpx.TransportError:\n print('refused')"
        out = subprocess.run(["ip", "netns", "exec", remote_peer, sys.executable, "-c", probe,
                              f"http://{HOST_ADDR}:{d.api_port}/health"],
                             capture_output=True, text=True, timeout=30)
        assert out.stdout.strip() == "refused", out.stderr
    finally:
        d.stop()
