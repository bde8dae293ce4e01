"""The ensemble V1 models (pydantic v2), compatible with the Go DMS ensemble YAML.

    Ensemble
    ├── allocations: {name: Allocation}
    │     ├── resources  {cpu, ram, disk, gpus}
    │     ├── execution  (docker | firecracker/qemu/microvm | wasm fields)
    │     ├── healthcheck, volumes, inputs, outputs
    │     └── keys, provision  (names of top-level keys / scripts)
    ├── nodes: {name: Node}      allocations, ports, location, peer, redundancy
    ├── edge_constraints         [{s, t, rtt, bw}]
    ├── supervisor               {strategy, allocations, children}
    └── keys, scripts, subnet, metadata, contracts

Sizes are ints (bytes), durations floats (seconds). Cross-field rules (a node naming an
unknown allocation, duplicate ports...) live in :mod:`dms.spec.semantic`, which reads the
raw document so it can report them even when the models do not build.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator, model_validator

from dms.spec.types import Bandwidth, Cores, Duration, Frequency, Millis, Name, Size

__all__ = [
    "Allocation", "CPU", "Contract", "Disk", "EdgeConstraint", "Ensemble", "Execution",
    "Executor", "GPU", "HealthCheck", "HealthResponse", "Location", "LocationConstraints",
    "Node", "Port", "RAM", "Resources", "StorageRef", "Strategy", "Subnet", "Supervisor",
    "Volume", "EXECUTOR_FIELDS", "REQUIRED_FIELDS", "VM_EXECUTORS",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def _alias(name: str, *go_spellings: str) -> AliasChoices:
    """Accept the Go DMS spellings too (its docs and versions differ); dump ``name``."""
    return AliasChoices(name, *go_spellings)


class Executor(StrEnum):
    DOCKER = "docker"
    FIRECRACKER = "firecracker"
    QEMU = "qemu"
    MICROVM = "microvm"
    WASM = "wasm"
    NOOP = "noop"


VM_EXECUTORS = frozenset({Executor.FIRECRACKER, Executor.QEMU, Executor.MICROVM})

_DOCKER = {"image", "cmd", "entrypoint", "environment", "working_directory"}
_VM = {"kernel_image", "root_file_system", "initrd_path", "kernel_args", "cmd"}
_WASM = {"module", "args", "environment"}
#: which execution fields each executor reads (``type`` is always allowed)
EXECUTOR_FIELDS: dict[Executor, frozenset[str]] = {
    Executor.DOCKER: frozenset(_DOCKER),
    Executor.FIRECRACKER: frozenset(_VM), Executor.QEMU: frozenset(_VM),
    Executor.MICROVM: frozenset(_VM),
    Executor.WASM: frozenset(_WASM),
    Executor.NOOP: frozenset(_DOCKER | _VM | _WASM),
}
#: execution fields an executor cannot run without
REQUIRED_FIELDS: dict[Executor, tuple[str, ...]] = {
    Executor.DOCKER: ("image",), Executor.FIRECRACKER: ("kernel_image",),
    Executor.QEMU: ("kernel_image",), Executor.MICROVM: ("kernel_image",),
    Executor.WASM: ("module",), Executor.NOOP: (),
}


class CPU(_Model):
    cores: Cores | None = Field(default=None, gt=0)
    clockspeed: Frequency | None = Field(
        default=None, validation_alias=AliasChoices("clockspeed", "clock_speed"))
    architecture: str | None = None
    model: str | None = None
    vendor: str | None = None
    threads: int | None = Field(default=None, ge=1)
    cache_size: Size | None = Field(default=None, validation_alias=_alias("cache_size",
                                                                          "cachesize"))


class RAM(_Model):
    size: Size
    clock_speed: Frequency | None = Field(default=None, validation_alias=_alias(
        "clock_speed", "clockspeed"))
    type: str | None = None


class Disk(_Model):
    size: Size
    type: str | None = None
    model: str | None = None
    vendor: str | None = None
    interface: str | None = None
    read_speed: Size | None = Field(default=None, validation_alias=_alias(
        "read_speed", "readspeed"))      # bytes per second
    write_speed: Size | None = Field(default=None, validation_alias=_alias(
        "write_speed", "writespeed"))


class GPU(_Model):
    vendor: Literal["nvidia", "amd", "intel"]
    model: str | None = None
    vram: Size | None = None

    @field_validator("vendor", mode="before")
    @classmethod
    def _lower(cls, v: Any) -> Any:
        return v.lower() if isinstance(v, str) else v


class Resources(_Model):
    cpu: CPU | None = None
    ram: RAM | None = None
    disk: Disk | None = None
    gpus: list[GPU] = Field(default_factory=list)


class Execution(_Model):
    """Executor parameters; which fields apply depends on the allocation's executor."""

    type: Executor | None = None
    # docker
    image: str | None = None
    cmd: list[str] = Field(default_factory=list)
    entrypoint: list[str] | None = None
    environment: dict[str, str] = Field(default_factory=dict)
    working_directory: str | None = None
    # firecracker / qemu / microvm
    kernel_image: str | None = None
    root_file_system: str | None = None
    initrd_path: str | None = None
    kernel_args: str | None = None
    # wasm
    module: str | None = None
    args: list[str] = Field(default_factory=list)

    @field_validator("environment", mode="before")
    @classmethod
    def _env_strings(cls, v: Any) -> Any:
        if isinstance(v, list) and all(isinstance(x, str) for x in v):
            # the Go DMS writes environment as a list of "KEY=value"
            return {k: val for k, _, val in (x.partition("=") for x in v)}
        if isinstance(v, dict):
            return {k: (str(x).lower() if isinstance(x, bool) else
                        str(x) if isinstance(x, int | float) else x) for k, x in v.items()}
        return v


class HealthResponse(_Model):
    type: Literal["contains", "equals", "status"] = "contains"
    value: str

    @field_validator("value", mode="before")
    @classmethod
    def _str(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int) and not isinstance(v, bool) else v


class HealthCheck(_Model):
    type: Literal["command", "http"]
    exec: list[str] = Field(default_factory=list)
    script: str | None = None        # a top-level script run as the check (Go DMS form)
    endpoint: str | None = None
    response: HealthResponse | None = None
    interval: Duration = 30.0


class Volume(_Model):
    target: str
    source: str | None = None
    size: Size | None = None
    read_only: bool = False


class StorageRef(_Model):
    """An input fetched before start or an output uploaded after exit."""

    url: str
    path: str
    type: Literal["s3", "http", "local"] | None = None

    @model_validator(mode="after")
    def _infer_type(self) -> StorageRef:
        if self.type is None:
            scheme = self.url.split("://", 1)[0].lower() if "://" in self.url else "local"
            self.type = {"s3": "s3", "http": "http", "https": "http",
                         "file": "local"}.get(scheme, "local")  # type: ignore[assignment]
        return self


class Allocation(_Model):
    type: Literal["task", "service"] = "service"
    executor: Executor
    resources: Resources = Field(default_factory=Resources)
    execution: Execution = Field(default_factory=Execution)
    dns_name: str | None = Field(default=None, validation_alias=_alias("dns_name", "dnsname"))
    keys: list[str] = Field(default_factory=list)
    provision: list[str] = Field(default_factory=list)
    volumes: list[Volume] = Field(default_factory=list)
    healthcheck: HealthCheck | None = Field(default=None, validation_alias=_alias(
        "healthcheck", "health_check"))
    inputs: list[StorageRef] = Field(default_factory=list)
    outputs: list[StorageRef] = Field(default_factory=list)

    @field_validator("executor", mode="before")
    @classmethod
    def _null_executor(cls, v: Any) -> Any:
        return "noop" if v == "null" else v   # the Go DMS calls it "null"

    @field_validator("healthcheck", mode="before")
    @classmethod
    def _script_check(cls, v: Any) -> Any:
        # Go DMS: `health_check: <script name>`
        return {"type": "command", "script": v} if isinstance(v, str) and v else v or None

    @model_validator(mode="after")
    def _execution_type(self) -> Allocation:
        if self.execution.type is None:
            self.execution.type = self.executor
        return self


class Port(_Model):
    public: int = Field(default=0, ge=0, le=65535)   # 0 = any free port
    private: int = Field(ge=1, le=65535)
    allocation: Name


class Location(_Model):
    continent: str | None = Field(default=None, validation_alias=_alias("continent", "region"))
    country: str | None = None
    city: str | None = None
    asn: int | None = Field(default=None, ge=0)
    isp: str | None = None


class LocationConstraints(_Model):
    accept: list[Location] = Field(default_factory=list)
    reject: list[Location] = Field(default_factory=list)


class Node(_Model):
    allocations: list[Name] = Field(default_factory=list)
    ports: list[Port] = Field(default_factory=list)
    location: LocationConstraints | None = None
    peer: str | None = None
    redundancy: int = Field(default=1, ge=1)


class EdgeConstraint(_Model):
    s: Name
    t: Name
    rtt: Millis | None = None                  # milliseconds
    bw: Bandwidth | None = None                # bits per second (as the Go DMS)

    @model_validator(mode="before")
    @classmethod
    def _edges_pair(cls, v: Any) -> Any:
        # Go DMS: `edges: [a, b]` (+ `symetric`, which we ignore: s/t are an unordered pair)
        if isinstance(v, dict) and isinstance(v.get("edges"), list) and len(v["edges"]) == 2:
            a, b = v["edges"]
            rest = {k: x for k, x in v.items() if k not in ("edges", "symetric", "symmetric")}
            return {"s": a, "t": b, **rest}
        return v


class Strategy(StrEnum):
    ONE_FOR_ONE = "OneForOne"
    ALL_FOR_ONE = "AllForOne"
    REST_FOR_ONE = "RestForOne"


class Supervisor(_Model):
    strategy: Strategy = Strategy.ONE_FOR_ONE
    allocations: list[Name] = Field(default_factory=list)
    children: list[Supervisor] = Field(default_factory=list)

    def walk(self) -> list[Supervisor]:
        out = [self]
        for child in self.children:
            out.extend(child.walk())
        return out


class Subnet(_Model):
    join: bool = False


class Contract(_Model):
    """A reference to a tokenomics contract (settled elsewhere)."""

    id: str
    provider: str | None = None


class Ensemble(_Model):
    version: Literal["V1"] = "V1"
    allocations: dict[Name, Allocation]
    nodes: dict[Name, Node]
    edge_constraints: list[EdgeConstraint] = Field(default_factory=list,
                                                   validation_alias=_alias("edge_constraints", "edges"))
    supervisor: Supervisor | None = None
    keys: dict[str, str] = Field(default_factory=dict)
    scripts: dict[str, str] = Field(default_factory=dict)
    subnet: Subnet = Field(default_factory=Subnet)
    metadata: dict[str, Any] = Field(default_factory=dict)
    contracts: list[Contract] = Field(default_factory=list)

    def node_of(self, allocation: str) -> str | None:
        for name, node in self.nodes.items():
            if allocation in node.allocations:
                return name
        return None
