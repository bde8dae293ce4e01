"""What this machine's Docker offers: advertised as the executor's capabilities.

``gpu_vendors`` and ``group_ids`` read the host (``/dev``, ``/sys``, ``/etc/group``)
under an injectable root so tests can fake a machine; ``fingerprint`` is pure over
the daemon's ``GET /info`` answer.
"""

from __future__ import annotations

import grp
from pathlib import Path
from typing import Any

_PCI_VENDORS = {"0x10de": "nvidia", "0x1002": "amd", "0x8086": "intel"}


def gpu_vendors(root: Path = Path("/"), runtimes: dict[str, Any] | None = None) -> list[str]:
    """GPU vendors a container can be given here (device nodes present and usable)."""
    found: set[str] = set()
    dev = root / "dev"
    if (dev / "nvidiactl").exists() and (runtimes is None or "nvidia" in runtimes
                                         or (dev / "nvidia0").exists()):
        found.add("nvidia")
    if (dev / "kfd").exists() and (dev / "dri").is_dir():
        found.add("amd")
    drm = root / "sys" / "class" / "drm"
    if (dev / "dri").is_dir() and drm.is_dir():
        for card in drm.glob("card[0-9]*"):
            try:
                vendor = (card / "device" / "vendor").read_text().strip()
            except OSError:
                continue
            if _PCI_VENDORS.get(vendor) == "intel":
                found.add("intel")
    return sorted(found)


def group_ids(names: tuple[str, ...] = ("video", "render")) -> dict[str, int]:
    out: dict[str, int] = {}
    for name in names:
        try:
            out[name] = grp.getgrnam(name).gr_gid
        except KeyError:
            continue
    return out


def fingerprint(info: dict[str, Any], vendors: list[str]) -> dict[str, Any]:
    """Capabilities from ``GET /info`` plus the GPU vendors found on the host."""
    cgroup = str(info.get("CgroupVersion") or "")
    return {
        "server_version": info.get("ServerVersion"),
        "cgroup_version": int(cgroup) if cgroup.isdigit() else None,
        "cgroup_driver": info.get("CgroupDriver"),
        "architecture": info.get("Architecture"),
        "os": info.get("OSType"),
        "cpus": info.get("NCPU"),
        "memory_bytes": info.get("MemTotal"),
        "runtimes": sorted((info.get("Runtimes") or {}).keys()),
        "gpus": vendors,
        "limits": {"cpu": bool(info.get("CpuCfsQuota", True)),
                   "memory": bool(info.get("MemoryLimit", True)),
                   "pids": bool(info.get("PidsLimit", True)),
                   "disk": False},
        "network": True,
        "recover": "reattach",
    }


def ping_unix(url: str, timeout_s: float = 3.0) -> bool:
    """``GET /_ping`` on a ``unix://`` Engine socket, closing it whatever happens.

    (The docker SDK leaks its socket when the connect fails, which a strict test run
    turns into an error; this probe does not.)
    """
    import socket

    path = url.removeprefix("unix://")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout_s)
        try:
            sock.connect(path)
            sock.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            answer = b""
            while chunk := sock.recv(4096):
                answer += chunk
        except OSError:
            return False
    head, _, body = answer.partition(b"\r\n\r\n")
    return head.startswith(b"HTTP/1.") and b" 200 " in head.split(b"\r\n")[0] and body == b"OK"
