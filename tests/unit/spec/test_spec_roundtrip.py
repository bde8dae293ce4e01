"""Property tests: YAML round trips are identity; the plan adds up."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dms.spec import Ensemble, dump_ensemble, loads_ensemble, lower
from dms.spec.dump import dump_yaml

pytestmark = pytest.mark.unit

_SETTINGS = settings(max_examples=50, deadline=None,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _ensembles() -> st.SearchStrategy[dict[str, Any]]:
    from spec_strategies import ensembles  # beside this file

    return ensembles()


@_SETTINGS
@given(_ensembles())
def test_ensemble_yaml_ensemble_is_identity(data: dict[str, Any]) -> None:
    first = loads_ensemble(dump_yaml(data))       # the generated input is valid
    text = dump_ensemble(first)
    second = loads_ensemble(text)
    assert second == first
    assert dump_ensemble(second) == text          # canonical: a fixed point


@_SETTINGS
@given(_ensembles())
def test_plan_aggregates_and_places_each_allocation_once(data: dict[str, Any]) -> None:
    ens: Ensemble = loads_ensemble(dump_yaml(data))
    plan = lower(ens)
    seen = [a for n in plan.nodes.values() for a in n.allocations]
    assert sorted(seen) == sorted(ens.allocations)            # exactly one node each
    for name, node in plan.nodes.items():
        allocs = [plan.allocations[a] for a in node.allocations]
        assert all(a.node == name for a in allocs)
        assert math.isclose(node.resources.cpu_cores,
                            math.fsum(a.resources.cpu_cores for a in allocs))
        assert node.resources.ram_bytes == sum(a.resources.ram_bytes for a in allocs)
        assert node.resources.disk_bytes == sum(a.resources.disk_bytes for a in allocs)
        assert sorted(node.resources.gpus, key=repr) == sorted(
            (g for a in allocs for g in a.resources.gpus), key=repr)
        assert node.executors == {ens.allocations[a].executor.value for a in node.allocations}
        assert node.redundancy == ens.nodes[name].redundancy
        for a in allocs:
            spec = ens.allocations[a.name]
            ram = spec.resources.ram.size if spec.resources.ram else None
            assert a.workload.limits.memory_bytes == (ram or None)
            assert a.workload.id == a.name
            assert {p for p in a.workload.ports} == {
                (p.public, p.private) for p in node.ports if p.allocation == a.name}


_JSONISH = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-5, 70000), st.text(max_size=6),
              st.sampled_from(["web", "docker", "n1", "1GiB", "30s", "V1", "OneForOne"])),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(
            ["version", "allocations", "nodes", "web", "n1", "executor", "execution", "image",
             "resources", "cpu", "cores", "ram", "size", "ports", "public", "private",
             "allocation", "supervisor", "children", "edge_constraints", "s", "t", "type",
             "healthcheck", "keys", "provision", "location", "accept"]), inner, max_size=4)),
    max_leaves=25)


@settings(max_examples=80, deadline=None)
@given(_JSONISH)
def test_validation_never_crashes_and_always_locates(data: Any) -> None:
    from dms.spec import validate_text

    text = dump_yaml({"version": "V1", **data} if isinstance(data, dict) else data)
    ensemble, errors = validate_text(text, "f.yaml")
    assert (ensemble is None) == bool(errors)
    for e in errors:
        assert e.line >= 1 and e.column >= 1 and e.message and e.hint
