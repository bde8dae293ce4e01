"""Lower an ensemble to what the orchestrator consumes: a pure function.

    Ensemble ──lower()──▶ Plan
                           ├── nodes: {name: NodePlan}   totals, executors, ports,
                           │                             location, peer, redundancy
                           └── allocations: {name: AllocationPlan}
                                              └── workload: executor.contract.WorkloadSpec

``AllocationPlan.workload`` is a real :class:`dms.executor.contract.WorkloadSpec` with
``id`` set to the allocation name; the orchestrator replaces the id (and fills
``inputs_dir`` / ``results_dir``) with ``dataclasses.replace`` when it allocates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dms.errors import ValidationError
from dms.executor.contract import GPURequest, Limits, WorkloadSpec
from dms.spec.models import (
    Allocation,
    EdgeConstraint,
    Ensemble,
    Executor,
    HealthCheck,
    LocationConstraints,
    StorageRef,
    Supervisor,
    Volume,
)

__all__ = ["AllocationPlan", "GPUNeed", "NodePlan", "Plan", "PortPlan", "ResourceTotals",
           "WORKLOAD_EXECUTOR", "lower"]

#: ensemble executor -> the executor registry name a WorkloadSpec carries
WORKLOAD_EXECUTOR: dict[Executor, str] = {
    Executor.DOCKER: "docker", Executor.FIRECRACKER: "firecracker",
    Executor.QEMU: "microvm", Executor.MICROVM: "microvm",
    Executor.WASM: "wasm", Executor.NOOP: "noop",
}


@dataclass(frozen=True)
class GPUNeed:
    vendor: str
    model: str | None = None
    vram_bytes: int | None = None


@dataclass(frozen=True)
class ResourceTotals:
    cpu_cores: float = 0.0
    ram_bytes: int = 0
    disk_bytes: int = 0
    gpus: tuple[GPUNeed, ...] = ()
    architectures: frozenset[str] = frozenset()   # CPU architectures asked for, if any

    @staticmethod
    def total(parts: list[ResourceTotals]) -> ResourceTotals:
        return ResourceTotals(
            cpu_cores=math.fsum(p.cpu_cores for p in parts),
            ram_bytes=sum(p.ram_bytes for p in parts),
            disk_bytes=sum(p.disk_bytes for p in parts),
            gpus=tuple(g for p in parts for g in p.gpus),
            architectures=frozenset().union(*(p.architectures for p in parts)))


@dataclass(frozen=True)
class PortPlan:
    public: int        # 0 = any free port, chosen by the provider
    private: int
    allocation: str


@dataclass(frozen=True)
class AllocationPlan:
    name: str
    node: str
    type: str                      # "task" | "service"
    executor: str                  # the ensemble's executor name
    resources: ResourceTotals
    workload: WorkloadSpec
    dns_name: str | None = None
    healthcheck: HealthCheck | None = None
    volumes: tuple[Volume, ...] = ()
    inputs: tuple[StorageRef, ...] = ()
    outputs: tuple[StorageRef, ...] = ()
    keys: dict[str, str] = field(default_factory=dict)        # name -> public key
    provision: tuple[tuple[str, str], ...] = ()               # (script name, script body)


@dataclass(frozen=True)
class NodePlan:
    name: str
    allocations: tuple[str, ...]
    resources: ResourceTotals          # sum over its allocations, per copy
    executors: frozenset[str]
    ports: tuple[PortPlan, ...]
    location: LocationConstraints | None
    peer: str | None
    redundancy: int


@dataclass(frozen=True)
class Plan:
    version: str
    nodes: dict[str, NodePlan]
    allocations: dict[str, AllocationPlan]
    edge_constraints: tuple[EdgeConstraint, ...]
    supervisor: Supervisor | None
    subnet_join: bool
    metadata: dict[str, Any]
    contracts: tuple[str, ...]


def _resources(alloc: Allocation) -> ResourceTotals:
    r = alloc.resources
    arch = r.cpu.architecture if r.cpu else None
    return ResourceTotals(
        cpu_cores=(r.cpu.cores or 0.0) if r.cpu else 0.0,
        ram_bytes=r.ram.size if r.ram else 0,
        disk_bytes=r.disk.size if r.disk else 0,
        gpus=tuple(GPUNeed(g.vendor, g.model, g.vram) for g in r.gpus),
        architectures=frozenset({arch}) if arch else frozenset())


def _workload(name: str, node: str, alloc: Allocation, res: ResourceTotals,
              ports: tuple[PortPlan, ...], network: bool) -> WorkloadSpec:
    ex = alloc.execution
    is_wasm = alloc.executor is Executor.WASM
    return WorkloadSpec(
        id=name,
        executor=WORKLOAD_EXECUTOR[alloc.executor],
        image=ex.image,
        cmd=tuple(ex.args if is_wasm else ex.cmd),
        entrypoint=tuple(ex.entrypoint) if ex.entrypoint is not None else None,
        env=dict(ex.environment),
        working_dir=ex.working_directory,
        kernel=Path(ex.kernel_image) if ex.kernel_image else None,
        rootfs=Path(ex.root_file_system) if ex.root_file_system else None,
        initrd=Path(ex.initrd_path) if ex.initrd_path else None,
        kernel_args=ex.kernel_args or "",
        module=Path(ex.module) if ex.module else None,
        limits=Limits(cpus=res.cpu_cores or None, memory_bytes=res.ram_bytes or None,
                      disk_bytes=res.disk_bytes or None,
                      gpus=tuple(GPURequest(vendor=g.vendor) for g in res.gpus)),  # type: ignore[arg-type]
        network=network or bool(ports),
        ports=tuple((p.public, p.private) for p in ports),
        labels={"dms.allocation": name, "dms.node": node},
    )


def lower(ensemble: Ensemble) -> Plan:
    """The plan for a validated ensemble. Raises ValidationError if placement is broken."""
    placed: dict[str, str] = {}
    for node_name, node in ensemble.nodes.items():
        for a in node.allocations:
            if a not in ensemble.allocations or a in placed:
                raise ValidationError(
                    f"allocation {a!r} on node {node_name!r} is unknown or placed twice",
                    hint="validate the ensemble first (`dms validate FILE`)")
            placed[a] = node_name
    if missing := sorted(set(ensemble.allocations) - set(placed)):
        raise ValidationError(f"allocations not on any node: {', '.join(missing)}",
                              hint="validate the ensemble first (`dms validate FILE`)")
    allocations: dict[str, AllocationPlan] = {}
    nodes: dict[str, NodePlan] = {}
    for node_name, node in ensemble.nodes.items():
        node_ports = tuple(PortPlan(p.public, p.private, p.allocation) for p in node.ports)
        parts = []
        for a in node.allocations:
            alloc = ensemble.allocations[a]
            res = _resources(alloc)
            parts.append(res)
            mine = tuple(p for p in node_ports if p.allocation == a)
            allocations[a] = AllocationPlan(
                name=a, node=node_name, type=alloc.type, executor=alloc.executor.value,
                resources=res,
                workload=_workload(a, node_name, alloc, res, mine, ensemble.subnet.join),
                dns_name=alloc.dns_name, healthcheck=alloc.healthcheck,
                volumes=tuple(alloc.volumes), inputs=tuple(alloc.inputs),
                outputs=tuple(alloc.outputs),
                keys={k: ensemble.keys[k] for k in alloc.keys if k in ensemble.keys},
                provision=tuple((s, ensemble.scripts[s]) for s in alloc.provision
                                if s in ensemble.scripts))
        nodes[node_name] = NodePlan(
            name=node_name, allocations=tuple(node.allocations),
            resources=ResourceTotals.total(parts),
            executors=frozenset(ensemble.allocations[a].executor.value
                                for a in node.allocations),
            ports=node_ports, location=node.location, peer=node.peer,
            redundancy=node.redundancy)
    return Plan(version=ensemble.version, nodes=nodes, allocations=allocations,
                edge_constraints=tuple(ensemble.edge_constraints),
                supervisor=ensemble.supervisor, subnet_join=ensemble.subnet.join,
                metadata=dict(ensemble.metadata),
                contracts=tuple(c.id for c in ensemble.contracts))
