"""Prometheus metrics of a node, read from the node's own state at scrape time.

    GET /metrics ──▶ generate_latest(registry) ──┬─▶ NodeCollector.collect()
                     (one registry per app)       │     reads node.network, .provider,
                                                  │     .orchestrator, .onboarding, ...
                                                  └─▶ ProcessCollector (process_*)

Nothing is counted as it happens: each scrape reads the current state (in-memory
objects and a few indexed SQLite reads), so the numbers cannot drift from what the node
reports elsewhere. Each family is read on its own and guarded: a node that is not fully
started (attributes still None) or a read that fails leaves that family without samples,
and a scrape never raises.

Scrapes must run on the daemon's loop thread (the store's SQLite connection lives
there): the API route is ``async def`` and calls :func:`render` directly.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from dms._version import __version__

log = logging.getLogger("dms.telemetry.metrics")

__all__ = ["CONTENT_TYPE", "METRIC_NAMES", "NodeCollector", "new_registry", "render"]

CONTENT_TYPE = CONTENT_TYPE_LATEST

# Statuses that always get a sample (0 when none), so series do not appear and vanish.
# They mirror dms.orchestrator.deployments.STATUSES and dms.allocation.runtime's statuses
# (copied, not imported: telemetry stays below those layers; a status not listed here
# still gets its own sample when it occurs).
DEPLOYMENT_STATUSES = ("Preparing", "Generating", "Committing", "Provisioning", "Running",
                       "Completed", "Failed", "Stopped")
ALLOCATION_STATUSES = ("pending", "starting", "running", "restarting", "completed", "failed",
                       "stopped")

METRIC_NAMES = ("dms_info", "dms_uptime_seconds", "dms_peers_connected", "dms_deployments",
                "dms_allocations", "dms_resources_cores", "dms_resources_bytes",
                "dms_executor_available")

Family = Callable[[Any], Iterable[Metric]]


class NodeCollector(Collector):
    """Yields the ``dms_*`` families from ``node`` each time the registry is collected."""

    def __init__(self, node: Any, *, clock: Callable[[], float] = time.time) -> None:
        self.node = node
        self.clock = clock
        self._warned: set[str] = set()

    def describe(self) -> Iterable[Metric]:
        # no pre-declared names: collect() is only called at scrape time
        return ()

    def collect(self) -> Iterator[Metric]:
        families: tuple[tuple[str, Family], ...] = (
            ("dms_info", _info), ("dms_uptime_seconds", self._uptime),
            ("dms_peers_connected", _peers), ("dms_deployments", _deployments),
            ("dms_allocations", _allocations), ("dms_resources", _resources),
            ("dms_executor_available", _executors))
        for name, family in families:
            try:
                metrics = list(family(self.node))
            except Exception as exc:  # a scrape must never fail because one read did
                if name not in self._warned:
                    self._warned.add(name)
                    log.warning("metrics: cannot read %s: %s", name, exc)
                continue
            yield from metrics

    def _uptime(self, node: Any) -> Iterable[Metric]:
        started = getattr(node, "started", None)
        if not isinstance(started, int | float):
            return ()
        return (GaugeMetricFamily("dms_uptime_seconds", "Seconds since the node started.",
                                  value=max(0.0, self.clock() - float(started))),)


def _safe(read: Callable[[], Any]) -> Any:
    try:
        return read()
    except Exception:
        return None


def _info(node: Any) -> Iterable[Metric]:
    # Node.did asserts the key is loaded; before open() it is simply unknown ("")
    did = _safe(lambda: node.did) or ""
    network = getattr(node, "network", None)
    peer_id = (_safe(lambda: network.peer_id) if network is not None else None) or ""
    m = GaugeMetricFamily("dms_info", "Identity of this node (always 1).",
                          labels=("version", "did", "peer_id"))
    m.add_metric((__version__, str(did), str(peer_id)), 1)
    return (m,)


def _peers(node: Any) -> Iterable[Metric]:
    network = getattr(node, "network", None)
    if network is None:
        return ()
    return (GaugeMetricFamily("dms_peers_connected", "libp2p peers connected now.",
                              value=len(network.connected_peers())),)


def _by_status(name: str, doc: str, known: Iterable[str], counts: Counter[str]) -> Metric:
    m = GaugeMetricFamily(name, doc, labels=("status",))
    for status in dict.fromkeys([*known, *sorted(counts)]):
        m.add_metric((status,), counts.get(status, 0))
    return m


def _deployments(node: Any) -> Iterable[Metric]:
    orch = getattr(node, "orchestrator", None)
    records = getattr(orch, "records", None)
    if records is None:
        return ()
    counts = Counter({s: records.count(s) for s in DEPLOYMENT_STATUSES})
    return (_by_status("dms_deployments",
                       "Deployments this node orchestrated, by status.",
                       DEPLOYMENT_STATUSES, counts),)


def _allocations(node: Any) -> Iterable[Metric]:
    runtimes = getattr(getattr(node, "provider", None), "runtimes", None)
    if runtimes is None:
        return ()
    counts = Counter(str(rt.record.status) for rt in list(runtimes.values()))
    return (_by_status("dms_allocations",
                       "Allocations this node runs as a provider, by status.",
                       ALLOCATION_STATUSES, counts),)


def _resources(node: Any) -> Iterable[Metric]:
    rm = getattr(getattr(node, "onboarding", None), "resources", None)
    if rm is None:
        return ()
    snap = rm.snapshot()
    cores = GaugeMetricFamily("dms_resources_cores",
                              "CPU cores onboarded to the network, and free of them.",
                              labels=("kind",))
    size = GaugeMetricFamily("dms_resources_bytes",
                             "RAM and disk onboarded to the network, and free of them.",
                             labels=("resource", "kind"))
    for kind, res in (("onboarded", snap.onboarded), ("free", snap.free)):
        cores.add_metric((kind,), float(res.cpu.cores) if res is not None else 0.0)
        size.add_metric(("ram", kind), float(res.ram.size) if res is not None else 0.0)
        size.add_metric(("disk", kind), float(res.disk.size) if res is not None else 0.0)
    return (cores, size)


def _executors(node: Any) -> Iterable[Metric]:
    available = getattr(node, "available_executors", None)
    if available is None:
        return ()
    m = GaugeMetricFamily("dms_executor_available",
                          "1 for each executor that works on this machine now.",
                          labels=("executor",))
    for name in sorted(available):
        m.add_metric((str(name),), 1)
    return (m,)


def new_registry(node: Any, *, clock: Callable[[], float] = time.time,
                 process: bool = True) -> CollectorRegistry:
    """A registry of its own (not the global default) with the node's collector and,
    when ``process``, the ``process_*`` metrics of this process."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(NodeCollector(node, clock=clock))
    if process:
        ProcessCollector(registry=registry)
    return registry


def render(registry: CollectorRegistry) -> bytes:
    """The text exposition of ``registry`` (content type :data:`CONTENT_TYPE`)."""
    return generate_latest(registry)
