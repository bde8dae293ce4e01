"""Run the commands :mod:`dms.testnet.plan` builds; find and remove what a testnet left.

All of it needs root (``ip netns``, ``ip link``, ``tc``, ``iptables``). Teardown works
from names alone (:class:`~dms.testnet.plan.Names`), so ``dms testnet down`` cleans up
after a crashed ``up`` too. It only ever touches objects whose names carry the
testnet's id: never ``docker0``, ``eth0`` of the host, or anybody else's bridge.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dms.errors import DMSError, ValidationError
from dms.testnet.plan import Names, Shape, Shaper, bridge_commands, node_commands, ns_exec

Runner = Callable[[Sequence[str]], subprocess.CompletedProcess[str]]


class NetnsError(DMSError):
    code = "testnet"


def run(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
    """Run one command, raising :class:`NetnsError` with its stderr when it fails."""
    try:
        cp = subprocess.run(list(argv), capture_output=True, text=True, timeout=30, check=False)
    except FileNotFoundError as exc:
        raise NetnsError(f"{argv[0]} not found", hint="install iproute2 (apt-get install "
                         "iproute2) or use --loopback") from exc
    if cp.returncode != 0:
        raise NetnsError(f"`{' '.join(argv)}` failed: {cp.stderr.strip()}",
                         hint="testnets in namespaces need root; use --loopback otherwise")
    return cp


def _quiet(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=30, check=False)


def require_root() -> None:
    if os.geteuid() != 0:
        raise ValidationError("network namespaces need root",
                              hint="run as root, or pass --loopback for nodes on 127.0.0.1")
    if shutil.which("ip") is None:
        raise ValidationError("the `ip` command is missing",
                              hint="apt-get install iproute2, or pass --loopback")


_NETEM: bool | None = None


def netem_supported() -> bool:
    """Whether this kernel has the ``netem`` qdisc (tried on a throwaway namespace)."""
    global _NETEM
    if _NETEM is None:
        ns = f"dms-probe-{os.getpid()}"
        _quiet(["ip", "netns", "add", ns])
        try:
            cp = _quiet(ns_exec(ns, ["tc", "qdisc", "add", "dev", "lo", "root", "netem",
                                     "delay", "1ms"]))
            _NETEM = cp.returncode == 0
        finally:
            _quiet(["ip", "netns", "del", ns])
    return _NETEM


def _br_netfilter_on() -> bool:
    try:
        return Path("/proc/sys/net/bridge/bridge-nf-call-iptables").read_text().strip() == "1"
    except OSError:
        return False


def _forward_rule(bridge: str) -> list[str]:
    return ["FORWARD", "-i", bridge, "-o", bridge, "-j", "ACCEPT"]


def _disable_ipv6(ifname: str) -> None:
    """Keep the host from sending router solicitations out of links it does not use."""
    try:
        Path(f"/proc/sys/net/ipv6/conf/{ifname}/disable_ipv6").write_text("1")
    except OSError:
        pass


def create(names: Names, n_nodes: int, subnet: str, shape: Shape, shaper: Shaper,
           runner: Runner = run) -> None:
    """Make the bridge (netem) and, per node, the namespace, veth pair and shaping.

    On any failure everything made so far is removed before the error propagates.
    """
    try:
        if shaper == "netem":
            for argv in bridge_commands(names):
                runner(argv)
            _disable_ipv6(names.bridge)
            # With br_netfilter on, bridged frames traverse the host's FORWARD chain,
            # whose policy Docker sets to DROP: let our own bridge's traffic through.
            if _br_netfilter_on() and shutil.which("iptables"):
                runner(["iptables", "-I", *_forward_rule(names.bridge)])
        for i in range(n_nodes):
            for argv in node_commands(names, i, subnet, shape, shaper):
                runner(argv)
            _disable_ipv6(names.veth(i))
    except BaseException:
        teardown(names)
        raise


@dataclass
class Leftovers:
    netns: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    pids: list[int] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.netns or self.links or self.pids)


def list_netns() -> list[str]:
    cp = _quiet(["ip", "-j", "netns", "list"])
    if cp.returncode != 0 or not cp.stdout.strip():
        return []
    return [e["name"] for e in json.loads(cp.stdout)]


def list_links() -> list[str]:
    cp = _quiet(["ip", "-j", "link", "show"])
    if cp.returncode != 0 or not cp.stdout.strip():
        return []
    return [e["ifname"] for e in json.loads(cp.stdout)]


def netns_pids(ns: str) -> list[int]:
    cp = _quiet(["ip", "netns", "pids", ns])
    return [int(p) for p in cp.stdout.split()] if cp.returncode == 0 else []


def switch_pids(tid: str) -> list[int]:
    """Delay-switch processes of this testnet (matched on module name and exact id)."""
    found = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            args = (d / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"dms.testnet.switch" in args and tid.encode() in args:
            found.append(int(d.name))
    return found


_ID_PATTERNS = [re.compile(r"^dms-([0-9a-f]{6})-\d+$"), re.compile(r"^dmsv-([0-9a-f]{6})-\d+$"),
                re.compile(r"^dmsbr-([0-9a-f]{6})$")]


def testnet_ids_present() -> set[str]:
    """Ids of every testnet with a namespace or link on this machine (crashed ones too)."""
    ids = set()
    for name in [*list_netns(), *list_links()]:
        for pat in _ID_PATTERNS:
            m = pat.match(name.split("@")[0])
            if m:
                ids.add(m.group(1))
    return ids


def find(names: Names) -> Leftovers:
    nss = [ns for ns in list_netns() if names.owns_netns(ns)]
    pids = [p for ns in nss for p in netns_pids(ns)] + switch_pids(names.tid)
    return Leftovers(nss, [ln for ln in list_links() if names.owns_link(ln)], pids)


def kill_pids(pids: Sequence[int], grace_s: float = 5.0) -> None:
    """SIGTERM, wait up to ``grace_s``, then SIGKILL whatever is left."""
    alive = list(pids)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for p in alive:
            try:
                os.kill(p, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + (grace_s if sig == signal.SIGTERM else 2.0)
        while alive and time.monotonic() < deadline:
            alive = [p for p in alive if _alive(p)]
            if alive:
                time.sleep(0.05)
        if not alive:
            return


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie child of ours counts as gone
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        if state == "Z":
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
            return False
    except (OSError, IndexError):
        return False
    return True


def teardown(names: Names, grace_s: float = 5.0) -> Leftovers:
    """Remove every process, namespace, link and rule of testnet ``names.tid``.

    Returns what could not be removed (empty on success).
    """
    left = find(names)
    kill_pids(left.pids, grace_s)
    for ns in left.netns:
        _quiet(["ip", "netns", "del", ns])
    if names.bridge in left.links:
        while _quiet(["iptables", "-D", *_forward_rule(names.bridge)]).returncode == 0:
            pass
    for link in left.links:
        _quiet(["ip", "link", "del", link])
    # deleting a namespace frees its veth ends asynchronously: wait for them to go
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline:
        left = find(names)
        if left.empty:
            break
        for link in left.links:
            _quiet(["ip", "link", "del", link])
        time.sleep(0.1)
    return left
