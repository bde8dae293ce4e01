from __future__ import annotations

import pytest

from dms.orchestrator.wire import (
    requirements_from_dict,
    requirements_from_plan,
    requirements_to_dict,
)
from dms.spec import loads_ensemble, lower

pytestmark = pytest.mark.unit

ENS = """version: V1
allocations:
  vm:
    type: task
    executor: {executor}
    resources: {{cpu: {{cores: 1.5}}, ram: {{size: 256MiB}}, disk: {{size: 1GiB}}}}
    execution: {{type: {executor}, {execution}}}
nodes:
  n1:
    allocations: [vm]
    location: {{accept: [{{country: DE}}], reject: [{{city: Berlin}}]}}
"""


@pytest.mark.parametrize(("executor", "registry"), [("qemu", "microvm"), ("microvm", "microvm"),
                                                    ("docker", "docker"), ("wasm", "wasm"),
                                                    ("firecracker", "firecracker")])
def test_ensemble_executor_names_map_to_registry_names(executor: str, registry: str) -> None:
    execution = {"docker": "image: x", "wasm": "module: m.wasm"}.get(
        executor, "kernel_image: /k, initrd_path: /i")
    plan = lower(loads_ensemble(ENS.format(executor=executor, execution=execution)))
    req = requirements_from_plan(plan.nodes["n1"])
    assert req.executors == (registry,)
    assert req.resources.cpu.cores == 1.5 and req.resources.ram.size == 256 * 2**20
    assert [loc.country for loc in req.locations] == ["DE"]
    assert [loc.city for loc in req.exclude_locations] == ["Berlin"]
    assert requirements_from_dict(requirements_to_dict(req)) == req
