"""The onboarding service the node calls: validate against the hardware, benchmark,
store what is offered.

    Onboarding(store, work_dir)
      .onboard(cpu, ram, disk, gpus, no_gpu, progress=) ─ validate ─ benchmark ─ store
      .offboard(force=False)                            ─ refuses while allocations run
      .status() / .hardware() / .benchmark() / .capability()
      .resources: ResourceManager                       ─ commit / allocate / release

Validation happens before anything is written: an error leaves the store unchanged.
The CPU limit is the logical CPU count (what container CPU quotas count); RAM is the
machine's total; disk is the free space of the filesystem holding ``work_dir``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from dms.errors import ValidationError
from dms.resources.accounting import ResourceManager, Snapshot
from dms.resources.benchmark import (
    DEFAULT_MAX_AGE_S,
    BenchmarkConfig,
    BenchmarkResult,
    ProgressFn,
    Runner,
    ensure_benchmark,
    load_benchmark,
)
from dms.resources.discovery import Hardware, discover
from dms.resources.errors import InsufficientResources, UnknownGPU
from dms.resources.model import (
    GPU,
    RAM,
    Disk,
    Location,
    MachineCapability,
    PricePreferences,
    Resources,
)
from dms.resources.probe import Probe
from dms.resources.units import format_size, parse_cores, parse_size
from dms.store.contract import Store

GpuShares = Sequence[tuple[int, int | str | None]]


@dataclass(frozen=True)
class OnboardingStatus:
    onboarded: bool
    onboarded_at: float | None
    resources: Snapshot
    benchmark: BenchmarkResult | None
    benchmark_reused: bool | None = None  # set by onboard(): was a fresh one reused?
    hardware: dict[str, Any] | None = None  # discovery at onboarding time

    def to_dict(self) -> dict[str, Any]:
        return {"onboarded": self.onboarded, "onboarded_at": self.onboarded_at,
                "resources": self.resources.to_dict(),
                "benchmark": self.benchmark.to_dict() if self.benchmark else None,
                "benchmark_reused": self.benchmark_reused, "hardware": self.hardware}


class Onboarding:
    def __init__(self, store: Store, work_dir: str | Path, *, probe: Probe | None = None,
                 benchmark_config: BenchmarkConfig | None = None,
                 benchmark_max_age_s: float = DEFAULT_MAX_AGE_S,
                 clock: Callable[[], float] = time.time,
                 discover_fn: Callable[[str, Probe | None], Hardware] = discover,
                 benchmark_runner: Runner | None = None) -> None:
        self.store = store
        self.work_dir = Path(work_dir)
        self.probe = probe
        self.benchmark_config = benchmark_config
        self.benchmark_max_age_s = benchmark_max_age_s
        self.resources = ResourceManager(store, clock=clock)
        self._clock = clock
        self._discover = discover_fn
        self._runner = benchmark_runner
        self._hardware: Hardware | None = None

    def hardware(self, refresh: bool = False) -> Hardware:
        """Discovery of this machine (cached; ``refresh`` probes again). Creates the work
        dir when missing, since the disk figures are those of its filesystem."""
        if self._hardware is None or refresh:
            self.work_dir.mkdir(parents=True, exist_ok=True)
            self._hardware = self._discover(str(self.work_dir), self.probe)
        return self._hardware

    # ------------------------------------------------------------ validation

    def validate(self, cpu_cores: float | str, ram_bytes: int | str, disk_bytes: int | str,
                 gpus: GpuShares | None = None, no_gpu: bool = False) -> Resources:
        """The resources an onboarding with these arguments would store; raises a
        :class:`ValidationError` subclass naming the limit when they are not possible."""
        cores = parse_cores(cpu_cores)
        ram, disk = parse_size(ram_bytes), parse_size(disk_bytes)
        if ram <= 0 or disk <= 0:
            raise ValidationError("RAM and disk to onboard must be more than 0 bytes",
                                  hint="e.g. --ram 1GiB --disk 2GiB")
        if gpus is not None and no_gpu:
            raise ValidationError("both a GPU list and --no-gpu were given",
                                  hint="give one of them")
        hw = self.hardware(refresh=True)
        cap = hw.capacity()
        if cores > cap.cpu.cores:
            raise InsufficientResources(
                f"asked for {cores:g} cores but this machine has {cap.cpu.cores:g} "
                f"(onboard at most {cap.cpu.cores:g})", hint=f"use --cpu {cap.cpu.cores:g} or less")
        if ram > cap.ram.size:
            raise InsufficientResources(
                f"asked for {format_size(ram)} of RAM but this machine has "
                f"{format_size(cap.ram.size)} (onboard at most {format_size(cap.ram.size)})",
                hint=f"use --ram {_floor_gib(cap.ram.size)} or less")
        if disk > cap.disk.size:
            raise InsufficientResources(
                f"asked for {format_size(disk)} of disk but the filesystem holding "
                f"{hw.work_dir} has {format_size(cap.disk.size)} free "
                f"(onboard at most {format_size(cap.disk.size)})",
                hint=f"use --disk {_floor_gib(cap.disk.size)} or less, or free space")
        chosen = () if no_gpu else self._gpus(hw, gpus)
        return replace(cap, cpu=replace(cap.cpu, cores=cores), ram=RAM(size=ram),
                       disk=Disk(size=disk, type=cap.disk.type), gpus=chosen)

    def _gpus(self, hw: Hardware, gpus: GpuShares | None) -> tuple[GPU, ...]:
        if gpus is None:  # default: every GPU that has memory of its own, whole
            return tuple(g for g in hw.gpus if g.vram > 0)
        by_index = {g.index: g for g in hw.gpus}
        have = ", ".join(f"{g.index} ({g.model}, {format_size(g.vram)})" for g in hw.gpus)
        out, seen = [], set()
        for index, share in gpus:
            g = by_index.get(index)
            if g is None:
                raise UnknownGPU(
                    f"GPU index {index} does not exist; "
                    + (f"this machine has GPUs {have}" if have else "this machine has no GPUs"),
                    hint="use one of the listed indices" if have else "onboard with --no-gpu")
            if index in seen:
                raise ValidationError(f"GPU {index} is listed twice", hint="list each GPU once")
            seen.add(index)
            vram = g.vram if share is None else parse_size(share)
            if vram <= 0 or vram > g.vram:
                raise InsufficientResources(
                    f"asked for {format_size(vram)} of GPU {index}'s memory but it has "
                    f"{format_size(g.vram)}", hint=f"give a share between 1 byte and {format_size(g.vram)}")
            out.append(replace(g, vram=vram))
        return tuple(out)

    # ------------------------------------------------------------ actions

    def onboard(self, cpu_cores: float | str, ram_bytes: int | str, disk_bytes: int | str,
                gpus: GpuShares | None = None, no_gpu: bool = False, *,
                progress: ProgressFn | None = None, rebenchmark: bool = False) -> OnboardingStatus:
        """Validate, benchmark (reusing a fresh stored one unless ``rebenchmark``), store.
        Blocking (the benchmark takes up to its budget): from trio use
        ``trio.to_thread.run_sync``."""
        wanted = self.validate(cpu_cores, ram_bytes, disk_bytes, gpus, no_gpu)
        self.resources.check_onboardable(wanted)
        hw = self.hardware()
        result, reused = ensure_benchmark(self.store, hw, config=self.benchmark_config,
                                          max_age_s=self.benchmark_max_age_s, force=rebenchmark,
                                          progress=progress, probe=self.probe,
                                          runner=self._runner)
        wanted = replace(wanted, disk=replace(wanted.disk, read_speed_mbps=result.disk_read_mbps,
                                              write_speed_mbps=result.disk_write_mbps))
        self.resources.set_onboarded(wanted, meta={"hardware": hw.to_dict(),
                                                   "benchmark_at": result.timestamp})
        return replace(self.status(), benchmark_reused=reused)

    def offboard(self, force: bool = False) -> list[str]:
        """Stop offering resources; refuses while allocations run unless ``force``.
        Returns the allocation and commitment ids dropped (the node stops those)."""
        return self.resources.clear_onboarded(force=force)

    def benchmark(self, force: bool = True, progress: ProgressFn | None = None) -> BenchmarkResult:
        """``dms benchmark``: run (or with ``force=False`` reuse while fresh) and store."""
        result, _ = ensure_benchmark(self.store, self.hardware(refresh=True),
                                     config=self.benchmark_config,
                                     max_age_s=self.benchmark_max_age_s, force=force,
                                     progress=progress, probe=self.probe,
                                          runner=self._runner)
        return result

    def status(self) -> OnboardingStatus:
        doc = self.resources.onboarded_doc() or {}
        snap = self.resources.snapshot()
        onboarded = snap.onboarded is not None
        return OnboardingStatus(onboarded=onboarded,
                                onboarded_at=doc.get("at") if onboarded else None,
                                resources=snap, benchmark=load_benchmark(self.store),
                                hardware=(doc.get("meta") or {}).get("hardware") if onboarded else None)

    def capability(self, executors: Sequence[str] = (), location: Location | None = None,
                   price: PricePreferences | None = None, free: bool = True) -> MachineCapability:
        """What this machine offers (free resources by default) for bids and ranking."""
        res = self.resources.free() if free else (self.resources.onboarded() or Resources())
        bench = load_benchmark(self.store)
        return MachineCapability(resources=res, scores=bench.scores() if bench else
                                 MachineCapability().scores, executors=tuple(executors),
                                 location=location or Location(), price=price or PricePreferences())


def _floor_gib(n: int) -> str:
    return f"{n // 2**30}GiB" if n >= 2**30 else f"{n // 2**20}MiB"
