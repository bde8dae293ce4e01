from __future__ import annotations

import logging
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from dms._version import __version__
from dms.config import Config
from dms.node.node import Node
from dms.resources.accounting import Snapshot
from dms.resources.model import Resources
from dms.telemetry import metrics
from dms.telemetry.metrics import NodeCollector, new_registry, render

pytestmark = pytest.mark.unit

GiB = 2**30
T0 = 1_000_000.0


class FakeRecords:
    def __init__(self, counts: dict[str, int]) -> None:
        self.counts = counts

    def count(self, status: str | None = None) -> int:
        return self.counts.get(status or "", 0)


class FakeResources:
    def __init__(self, onboarded: Resources | None, free: Resources) -> None:
        self.snap = Snapshot(onboarded, free, {}, {})

    def snapshot(self) -> Snapshot:
        return self.snap


def runtime(status: str) -> Any:
    return SimpleNamespace(record=SimpleNamespace(status=status))


def full_node() -> Any:
    return SimpleNamespace(
        did="did:key:zNode", started=T0,
        network=SimpleNamespace(peer_id="12D3KooWPeer", connected_peers=lambda: ["a", "b", "c"]),
        orchestrator=SimpleNamespace(records=FakeRecords({"Running": 2, "Failed": 1})),
        provider=SimpleNamespace(runtimes={"e/a": runtime("running"), "e/b": runtime("running"),
                                           "e/c": runtime("completed"),
                                           "e/d": runtime("paused")}),
        onboarding=SimpleNamespace(resources=FakeResources(
            Resources.of(cores=2, ram=4 * GiB, disk=20 * GiB),
            Resources.of(cores=1.5, ram=3 * GiB, disk=18 * GiB))),
        available_executors={"docker": {}, "wasm": {}})


def scrape(node: Any, *, process: bool = False) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """{sample name: {sorted label items: value}} from a real text exposition round trip."""
    text = render(new_registry(node, clock=lambda: T0 + 42.5, process=process)).decode()
    out: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out.setdefault(s.name, {})[tuple(sorted(s.labels.items()))] = s.value
    return out


def test_every_metric_with_its_labels_and_values() -> None:
    got = scrape(full_node())
    assert set(metrics.METRIC_NAMES) <= set(got)
    assert got["dms_info"] == {(("did", "did:key:zNode"), ("peer_id", "12D3KooWPeer"),
                                ("version", __version__)): 1}
    assert got["dms_uptime_seconds"] == {(): 42.5}
    assert got["dms_peers_connected"] == {(): 3}
    deployments = {dict(k)["status"]: v for k, v in got["dms_deployments"].items()}
    assert deployments == {**dict.fromkeys(metrics.DEPLOYMENT_STATUSES, 0), "Running": 2, "Failed": 1}
    allocations = {dict(k)["status"]: v for k, v in got["dms_allocations"].items()}
    # known statuses always present; an unknown one still shows up
    assert allocations == {**dict.fromkeys(metrics.ALLOCATION_STATUSES, 0), "running": 2,
                           "completed": 1, "paused": 1}
    assert got["dms_resources_cores"] == {(("kind", "onboarded"),): 2, (("kind", "free"),): 1.5}
    assert got["dms_resources_bytes"] == {
        (("kind", "onboarded"), ("resource", "ram")): 4 * GiB,
        (("kind", "onboarded"), ("resource", "disk")): 20 * GiB,
        (("kind", "free"), ("resource", "ram")): 3 * GiB,
        (("kind", "free"), ("resource", "disk")): 18 * GiB}
    assert got["dms_executor_available"] == {(("executor", "docker"),): 1,
                                             (("executor", "wasm"),): 1}


def test_not_onboarded_reads_zero() -> None:
    node = full_node()
    node.onboarding = SimpleNamespace(resources=FakeResources(None, Resources()))
    got = scrape(node)
    assert set(got["dms_resources_cores"].values()) == {0}
    assert len(got["dms_resources_bytes"]) == 4 and set(got["dms_resources_bytes"].values()) == {0}


def test_process_metrics_on_the_same_registry() -> None:
    got = scrape(full_node(), process=True)
    assert {"process_cpu_seconds_total", "process_resident_memory_bytes",
            "process_open_fds"} <= set(got)
    assert got["process_resident_memory_bytes"][()] > 0


def test_a_real_node_that_is_not_started(tmp_path: Path) -> None:
    node = Node(tmp_path, Config())  # no keys, no network, no store yet
    got = scrape(node)
    assert got["dms_info"] == {(("did", ""), ("peer_id", ""), ("version", __version__)): 1}
    assert "dms_uptime_seconds" in got
    for absent in ("dms_peers_connected", "dms_deployments", "dms_allocations",
                   "dms_resources_cores", "dms_resources_bytes"):
        assert absent not in got
    assert "dms_executor_available" not in got  # no executor probed yet: no samples


def test_an_empty_object_never_raises() -> None:
    got = scrape(object())
    assert got["dms_info"] == {(("did", ""), ("peer_id", ""), ("version", __version__)): 1}
    assert set(got) == {"dms_info"}


def test_a_failing_read_drops_only_its_family_and_warns_once(caplog: pytest.LogCaptureFixture) -> None:
    def boom(status: str | None = None) -> int:
        raise RuntimeError("database is locked")

    node = full_node()
    node.orchestrator.records.count = boom
    node.network.connected_peers = lambda: 1 / 0
    reg = new_registry(node, process=False)
    with caplog.at_level(logging.WARNING, logger="dms.telemetry.metrics"):
        for _ in range(3):
            names = {f.name for f in text_string_to_metric_families(render(reg).decode())}
    assert "dms_deployments" not in names and "dms_peers_connected" not in names
    assert {"dms_info", "dms_allocations", "dms_resources_cores"} <= names
    warned = [r.getMessage() for r in caplog.records]
    assert len(warned) == 2, warned
    assert any("dms_deployments" in w and "database is locked" in w for w in warned)


def test_each_registry_is_its_own() -> None:
    from prometheus_client import REGISTRY

    a, b = new_registry(full_node()), new_registry(full_node())  # no duplicate-name clash
    assert isinstance(a, CollectorRegistry) and a is not REGISTRY and a is not b
    assert REGISTRY.get_sample_value("dms_peers_connected") is None
    assert a.get_sample_value("dms_peers_connected") == 3


def test_collector_describes_nothing_up_front() -> None:
    assert list(NodeCollector(object()).describe()) == []


def test_known_statuses_match_their_owners() -> None:
    """The copied status lists follow dms.orchestrator and dms.allocation."""
    from dms.allocation import runtime as alloc
    from dms.orchestrator.deployments import STATUSES

    assert metrics.DEPLOYMENT_STATUSES == STATUSES
    owned = {v for k, v in vars(alloc).items() if k.isupper() and isinstance(v, str)
             and v.islower() and k not in ("COLLECTION",)}
    assert set(metrics.ALLOCATION_STATUSES) == owned
