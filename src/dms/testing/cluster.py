"""Several real `dms run` daemons on loopback that trust each other, for tests and
benchmarks (the namespace-based testnet lives in :mod:`dms.testnet`).

    start_cluster(n) ─▶ node 0 starts; nodes 1..n-1 bootstrap to it
                     ─▶ trust: every node's `dms` context roots every other node's DID
                     ─▶ onboard (optional, short benchmark budget)
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dms.testing.daemon import Daemon, start_daemon


@dataclass
class Cluster:
    nodes: list[Daemon] = field(default_factory=list)
    info: list[dict[str, Any]] = field(default_factory=list)

    def __getitem__(self, i: int) -> Daemon:
        return self.nodes[i]

    def stop(self) -> None:
        for d in self.nodes:
            d.stop()


def node_args(extra: Sequence[str] = (), bootstrap: str | None = None,
              budget_s: float = 1.0) -> list[str]:
    args = ["--set", 'network.listen_addrs=["/ip4/127.0.0.1/tcp/0"]',
            "--set", "network.mdns=false",
            "--set", f"onboarding.benchmark_budget_s={budget_s}",
            "--set", "deployment.bid_window_s=2.0", *extra]
    if bootstrap:
        args += ["--set", f'network.bootstrap=["{bootstrap}"]']
    return args


def status(d: Daemon) -> dict[str, Any]:
    r = d.cli("status", "--json")
    if r.returncode != 0:
        raise RuntimeError(f"dms status failed: {r.stderr}")
    return dict(json.loads(r.stdout))


def trust_all(nodes: Sequence[Daemon], dids: Sequence[str]) -> None:
    """Each node's `dms` context trusts every other node's DID as a root."""
    from dms.crypto.keystore import Keystore
    from dms.testing.daemon import TEST_PASSPHRASE
    from dms.ucan import CapabilityContext

    for d in nodes:
        key = Keystore(d.home / "keys").load("dms", d.env.get("DMS_PASSPHRASE", TEST_PASSPHRASE))
        ctx = CapabilityContext.load(d.home / "cap" / "dms.json", key)
        for did in dids:
            if did != key.did:
                ctx.add_root(did)


def wait_peers(nodes: Sequence[Daemon], want: int, timeout: float = 30) -> None:
    t0 = time.monotonic()
    while True:
        counts = [status(d)["peers"] for d in nodes]
        if all(c >= want for c in counts):
            return
        if time.monotonic() - t0 > timeout:
            raise TimeoutError(f"peers did not connect: {counts} (want >= {want} each)")
        time.sleep(0.2)


def deployment_status(d: Daemon, eid: str) -> dict[str, Any]:
    r = d.cli("deployment", "status", eid, "--json")
    if r.returncode != 0:
        raise RuntimeError(f"deployment status {eid} failed: {r.stderr}")
    return dict(json.loads(r.stdout))


def messages(st: dict[str, Any]) -> list[str]:
    """The event messages of a deployment status, oldest first."""
    return [e["msg"] for e in st.get("events") or ()]


def wait_deployment(d: Daemon, eid: str, done: Callable[[dict[str, Any]], bool],
                    timeout: float = 60.0) -> dict[str, Any]:
    """Deployment ``eid``'s status once ``done(status)`` holds, or the last one seen when
    ``timeout`` seconds passed (the caller asserts on it and shows what it saw)."""
    deadline = time.monotonic() + timeout
    while True:
        st = deployment_status(d, eid)
        if done(st) or time.monotonic() > deadline:
            return st
        time.sleep(0.25)


def wait_events(d: Daemon, eid: str, want: Sequence[str], timeout: float = 60.0
                ) -> dict[str, Any]:
    """:func:`wait_deployment` until every text in ``want`` is part of some event."""
    return wait_deployment(d, eid, lambda st: all(any(w in m for m in messages(st))
                                                  for w in want), timeout)


def onboard(d: Daemon, cpu: str = "1", ram: str = "1GiB", disk: str = "2GiB") -> dict[str, Any]:
    r = d.cli("onboard", "--cpu", cpu, "--ram", ram, "--disk", disk, "--json", timeout=120)
    if r.returncode != 0:
        raise RuntimeError(f"onboard failed: {r.stderr}")
    return dict(json.loads(r.stdout))


def start_cluster(base: Path, n: int, *, env: dict[str, str] | None = None,
                  extra: Sequence[str] = (), onboard_nodes: Sequence[int] = (),
                  budget_s: float = 1.0) -> Cluster:
    c = Cluster()
    try:
        first = start_daemon(base / "n0", env=env, args=node_args(extra, budget_s=budget_s))
        c.nodes.append(first)
        info0 = status(first)
        c.info.append(info0)
        boot = info0["addrs"][0]
        for i in range(1, n):
            d = start_daemon(base / f"n{i}", env=env,
                             args=node_args(extra, bootstrap=boot, budget_s=budget_s))
            c.nodes.append(d)
            c.info.append(status(d))
        trust_all(c.nodes, [i["did"] for i in c.info])
        if n > 1:
            wait_peers(c.nodes, 1)
        for i in onboard_nodes:
            onboard(c.nodes[i])
    except BaseException:
        c.stop()
        raise
    return c


@contextlib.contextmanager
def cluster(base: Path, n: int, **kw: Any) -> Iterator[Cluster]:
    c = start_cluster(base, n, **kw)
    try:
        yield c
    finally:
        c.stop()
