"""Machine benchmark: bounded in time, reported through a progress callback, stored.

    run_benchmark(hardware, config, progress) ──▶ BenchmarkResult
    ensure_benchmark(store, hardware, ...)    ──▶ (result, reused)
        reuse the stored one while fresh (age <= max_age_s, same hardware fingerprint),
        else run and store it in the Record ``resources.benchmark`` (history kept)

The time budget (default 15 s, under the 20 s the issue allows even with process start
and file clean-up) is split into slices: cpu single 15 %, cpu all-cores 20 %, memory
15 %, disk write 20 %, disk read 10 %, random 4K reads 10 %, GPU 10 %. What each figure
means is described in :mod:`dms.resources.workloads` and :mod:`dms.resources.gpu_bench`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import dms
from dms.resources import workloads
from dms.resources.discovery import Hardware
from dms.resources.gpu_bench import GPUBenchmark, gpu_benchmarks
from dms.resources.model import BenchmarkScores
from dms.resources.probe import Probe
from dms.store.contract import Store

RECORD = "resources.benchmark"
DEFAULT_MAX_AGE_S = 7 * 86400
SLICES = {"cpu_single": 0.15, "cpu_multi": 0.20, "memory": 0.15, "disk_write": 0.20,
          "disk_read": 0.10, "disk_iops": 0.10, "gpu": 0.10}


@dataclass(frozen=True)
class Progress:
    step: str  # one of SLICES' keys, or "done"
    index: int  # 1-based position of the step
    total: int
    message: str

    def line(self) -> str:
        return f"[{self.index}/{self.total}] {self.message}"


ProgressFn = Callable[[Progress], None]
Runner = Callable[["Hardware", "BenchmarkConfig | None", "ProgressFn | None", "Probe | None"],
                  "BenchmarkResult"]
"""Signature of :func:`run_benchmark`; injectable for tests."""


@dataclass(frozen=True)
class BenchmarkConfig:
    budget_s: float = 15.0
    cpu_workers: int | None = None  # default: every logical CPU
    disk_max_bytes: int = 512 * 2**20
    memory_bytes: int | None = None  # default: 256 MiB, less on small machines
    gpu: bool = True


@dataclass(frozen=True)
class BenchmarkResult:
    timestamp: float
    dms_version: str
    duration_s: float
    budget_s: float
    fingerprint: str
    cpu_single_ops: float
    cpu_multi_ops: float
    cpu_workers: int
    memory_copy_gbps: float
    disk_write_mbps: float
    disk_read_mbps: float
    disk_read_mode: str
    disk_iops: float
    disk_iops_mode: str
    gpus: tuple[GPUBenchmark, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    def scores(self) -> BenchmarkScores:
        return BenchmarkScores(cpu_single_ops=self.cpu_single_ops,
                               cpu_multi_ops=self.cpu_multi_ops,
                               memory_gbps=self.memory_copy_gbps,
                               disk_read_mbps=self.disk_read_mbps,
                               disk_write_mbps=self.disk_write_mbps, disk_iops=self.disk_iops)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> BenchmarkResult:
        d = dict(d)
        d["gpus"] = tuple(GPUBenchmark(**g) for g in d.get("gpus") or ())
        d["notes"] = tuple(d.get("notes") or ())
        return cls(**d)

    def age_s(self, now: float | None = None) -> float:
        return (time.time() if now is None else now) - self.timestamp


def run_benchmark(hardware: Hardware, config: BenchmarkConfig | None = None,
                  progress: ProgressFn | None = None, probe: Probe | None = None) -> BenchmarkResult:
    """Measure this machine in ``hardware.work_dir`` within ``config.budget_s`` (blocking;
    from async code call it through ``trio.to_thread.run_sync``)."""
    cfg = config or BenchmarkConfig()
    say = progress or (lambda _p: None)
    steps = ["cpu_single", "cpu_multi", "memory", "disk", "gpu"]
    t = {k: cfg.budget_s * v for k, v in SLICES.items()}
    started, stamp = time.perf_counter(), time.time()
    notes: list[str] = []

    def step(name: str, message: str) -> None:
        say(Progress(name, steps.index(name) + 1, len(steps), message))

    step("cpu_single", "CPU single-thread ...")
    ops, secs = workloads.cpu_run(t["cpu_single"])
    single = ops / secs
    step("cpu_single", f"CPU single-thread: {single:,.0f} ops/s")

    workers = cfg.cpu_workers or hardware.cpu.threads or os.cpu_count() or 1
    step("cpu_multi", f"CPU all cores ({workers} processes) ...")
    multi = workloads.cpu_parallel(workers, t["cpu_multi"])
    step("cpu_multi", f"CPU all cores: {multi:,.0f} ops/s")

    mem_size = cfg.memory_bytes or max(16 * 2**20, min(256 * 2**20, hardware.ram.size // 32))
    mem_size -= mem_size % 2**20
    step("memory", f"memory copy ({mem_size >> 20} MiB buffers) ...")
    gbps = workloads.memory_copy(t["memory"], mem_size)
    step("memory", f"memory copy: {gbps:.2f} GB/s")

    step("disk", f"disk in {hardware.work_dir} ...")
    disk_bytes = min(cfg.disk_max_bytes, max(2**20, hardware.work_free // 4))
    d = workloads.disk_run(Path(hardware.work_dir), t["disk_write"], t["disk_read"],
                           t["disk_iops"], disk_bytes)
    if d.read_mode != "o_direct":
        notes.append(f"disk reads measured with mode {d.read_mode!r} (no O_DIRECT here)")
    step("disk", f"disk: write {d.write_mbps:,.0f} MB/s, read {d.read_mbps:,.0f} MB/s "
                 f"({d.read_mode}), random 4K read {d.iops:,.0f} IOPS")

    gpus: list[GPUBenchmark] = []
    if cfg.gpu and hardware.gpus:
        step("gpu", f"GPUs ({len(hardware.gpus)}) ...")
        gpus = gpu_benchmarks(hardware.gpus, probe or Probe(), t["gpu"])
        step("gpu", "GPUs: " + "; ".join(_gpu_line(g) for g in gpus))
    else:
        step("gpu", "GPUs: none" if not hardware.gpus else "GPUs: skipped")
    duration = time.perf_counter() - started
    say(Progress("done", len(steps), len(steps), f"benchmark done in {duration:.1f} s"))
    return BenchmarkResult(timestamp=stamp, dms_version=dms.__version__, duration_s=duration,
                           budget_s=cfg.budget_s, fingerprint=hardware.fingerprint(),
                           cpu_single_ops=single, cpu_multi_ops=multi, cpu_workers=workers,
                           memory_copy_gbps=gbps, disk_write_mbps=d.write_mbps,
                           disk_read_mbps=d.read_mbps, disk_read_mode=d.read_mode,
                           disk_iops=d.iops, disk_iops_mode=d.iops_mode, gpus=tuple(gpus),
                           notes=tuple(notes))


def _gpu_line(g: GPUBenchmark) -> str:
    parts = [f"#{g.index} {g.model or ''} ({g.source})"]
    if g.tflops_fp32:
        parts.append(f"{g.tflops_fp32} TFLOPS fp32")
    if g.mem_bandwidth_gbps:
        parts.append(f"{g.mem_bandwidth_gbps} GB/s")
    return " ".join(parts)


def load_benchmark(store: Store) -> BenchmarkResult | None:
    doc = store.record(RECORD).get()
    return BenchmarkResult.from_dict(doc) if doc else None


def benchmark_history(store: Store, limit: int | None = None) -> list[BenchmarkResult]:
    return [BenchmarkResult.from_dict(d) for _, d in store.record(RECORD).history(limit)]


def save_benchmark(store: Store, result: BenchmarkResult) -> None:
    store.record(RECORD).set(result.to_dict())


def is_fresh(result: BenchmarkResult, hardware: Hardware, max_age_s: float = DEFAULT_MAX_AGE_S,
             now: float | None = None) -> bool:
    """Young enough and measured on the same hardware."""
    return 0 <= result.age_s(now) <= max_age_s and result.fingerprint == hardware.fingerprint()


def ensure_benchmark(store: Store, hardware: Hardware, *, config: BenchmarkConfig | None = None,
                     max_age_s: float = DEFAULT_MAX_AGE_S, force: bool = False,
                     progress: ProgressFn | None = None, probe: Probe | None = None,
                     now: float | None = None,
                     runner: Runner | None = None) -> tuple[BenchmarkResult, bool]:
    """The stored benchmark if fresh (``reused=True``), else a new one, stored."""
    if not force:
        old = load_benchmark(store)
        if old is not None and is_fresh(old, hardware, max_age_s, now):
            if progress:
                progress(Progress("done", 1, 1, f"reusing benchmark from "
                                  f"{old.age_s(now) / 3600:.1f} h ago (dms benchmark re-runs it)"))
            return old, True
    result = (runner or run_benchmark)(hardware, config, progress, probe)
    save_benchmark(store, result)
    return result, False
