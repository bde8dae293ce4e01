"""The capability model: typed, frozen resource descriptions.

    Resources ── cpu: CPU      cores (float, millicore precision), clock, arch, model ...
              ├─ ram: RAM      size bytes, clock, type
              ├─ disk: Disk    size bytes, type, read/write MB/s
              └─ gpus: (GPU,)  index, vendor, model, vram bytes, pci_address, uuid

    MachineCapability = Resources + BenchmarkScores + executors + Location + PricePreferences

Every class round-trips through plain JSON (``to_dict`` / ``from_dict``) so it can be
stored and sent on the wire. Values that are unknown are ``None`` (or ``0`` for
amounts); comparisons ignore unknown attributes. Arithmetic lives in
:mod:`dms.resources.compare`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, TypeVar

T = TypeVar("T")

CORE_PRECISION = 3  # cores are kept to millicores so add/subtract round-trip exactly


def _from(cls: type[T], d: dict[str, Any] | None) -> T:
    known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: v for k, v in (d or {}).items() if k in known})


@dataclass(frozen=True)
class CPU:
    cores: float = 0.0
    clock_speed_hz: int | None = None
    architecture: str | None = None
    model: str | None = None
    vendor: str | None = None
    threads: int | None = None
    cache_bytes: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "cores", round(float(self.cores), CORE_PRECISION))


@dataclass(frozen=True)
class RAM:
    size: int = 0
    clock_speed_hz: int | None = None
    type: str | None = None


@dataclass(frozen=True)
class Disk:
    size: int = 0
    type: str | None = None  # "ssd" | "hdd" | None (unknown)
    read_speed_mbps: float | None = None
    write_speed_mbps: float | None = None


@dataclass(frozen=True)
class GPU:
    """One GPU, or a share of one: ``vram`` is the bytes of video memory in question.

    In a request, ``index=None`` means "any GPU that matches"; vendor/model ``None``
    means "any vendor/model"."""

    index: int | None = None
    vendor: str | None = None  # "nvidia" | "amd" | "intel"
    model: str | None = None
    vram: int = 0
    pci_address: str | None = None
    uuid: str | None = None


@dataclass(frozen=True)
class Resources:
    cpu: CPU = field(default_factory=CPU)
    ram: RAM = field(default_factory=RAM)
    disk: Disk = field(default_factory=Disk)
    gpus: tuple[GPU, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "gpus", tuple(self.gpus))

    @property
    def is_zero(self) -> bool:
        return self.cpu.cores == 0 and self.ram.size == 0 and self.disk.size == 0 and not self.gpus

    def gpu(self, index: int) -> GPU | None:
        return next((g for g in self.gpus if g.index == index), None)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> Resources:
        d = d or {}
        return cls(cpu=_from(CPU, d.get("cpu")), ram=_from(RAM, d.get("ram")),
                   disk=_from(Disk, d.get("disk")),
                   gpus=tuple(_from(GPU, g) for g in d.get("gpus") or ()))

    @classmethod
    def of(cls, cores: float = 0, ram: int = 0, disk: int = 0,
           gpus: tuple[GPU, ...] | list[GPU] = ()) -> Resources:
        """Shorthand for amounts only: ``Resources.of(cores=1, ram=2**30, disk=2**31)``."""
        return cls(cpu=CPU(cores=cores), ram=RAM(size=ram), disk=Disk(size=disk),
                   gpus=tuple(gpus))

    def amounts(self) -> Resources:
        """Only the amounts (cores, bytes, GPU index/vram) without descriptive fields."""
        return Resources.of(self.cpu.cores, self.ram.size, self.disk.size,
                            tuple(GPU(index=g.index, vram=g.vram) for g in self.gpus))

    def with_cores(self, cores: float) -> Resources:
        return replace(self, cpu=replace(self.cpu, cores=cores))


@dataclass(frozen=True)
class BenchmarkScores:
    """The figures a bid or a ranking may use (a summary of a BenchmarkResult)."""

    cpu_single_ops: float | None = None
    cpu_multi_ops: float | None = None
    memory_gbps: float | None = None
    disk_read_mbps: float | None = None
    disk_write_mbps: float | None = None
    disk_iops: float | None = None


@dataclass(frozen=True)
class Location:
    continent: str | None = None
    country: str | None = None
    city: str | None = None
    asn: int | None = None
    isp: str | None = None


@dataclass(frozen=True)
class PricePreferences:
    """What the provider asks, per hour, in ``currency`` units; ``None`` = no price set."""

    currency: str = "NTX"
    per_core_hour: float | None = None
    per_gib_ram_hour: float | None = None
    per_gpu_hour: float | None = None
    minimum_per_hour: float | None = None

    def hourly(self, r: Resources) -> float:
        total = 0.0
        total += (self.per_core_hour or 0.0) * r.cpu.cores
        total += (self.per_gib_ram_hour or 0.0) * r.ram.size / 2**30
        total += (self.per_gpu_hour or 0.0) * len(r.gpus)
        return max(total, self.minimum_per_hour or 0.0)


@dataclass(frozen=True)
class MachineCapability:
    resources: Resources = field(default_factory=Resources)
    scores: BenchmarkScores = field(default_factory=BenchmarkScores)
    executors: tuple[str, ...] = ()
    location: Location = field(default_factory=Location)
    price: PricePreferences = field(default_factory=PricePreferences)

    def __post_init__(self) -> None:
        object.__setattr__(self, "executors", tuple(self.executors))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> MachineCapability:
        d = d or {}
        return cls(resources=Resources.from_dict(d.get("resources")),
                   scores=_from(BenchmarkScores, d.get("scores")),
                   executors=tuple(d.get("executors") or ()),
                   location=_from(Location, d.get("location")),
                   price=_from(PricePreferences, d.get("price")))
