from __future__ import annotations

from pathlib import Path

import pytest
from resources_fakes import (
    CountingRunner,
    failing_cpu_worker,
    fake_pynvml,
    fake_result,
    host_probe,
    small_hardware,
)

import dms
import dms.resources
from dms.resources import workloads
from dms.resources.benchmark import (
    BenchmarkConfig,
    BenchmarkResult,
    benchmark_history,
    ensure_benchmark,
    is_fresh,
    load_benchmark,
    run_benchmark,
)
from dms.resources.discovery import discover
from dms.resources.gpu_bench import gpu_benchmarks
from dms.resources.model import GPU
from dms.store import MemoryStore

pytestmark = pytest.mark.unit


def test_cpu_workload_is_deterministic_per_op() -> None:
    ops, secs = workloads.cpu_run(0.02)
    assert ops > 0 and ops % workloads.CHUNK == 0 and secs >= 0.02


def test_memory_copy_measures_something() -> None:
    assert workloads.memory_copy(0.01, 4 * 2**20) > 0
    assert workloads.memory_copy(0.01, 1000) > 0  # rounded up to 1 MiB


def test_cpu_workers_that_fail_are_reported_not_waited_for() -> None:
    with pytest.raises(RuntimeError, match="workers failed"):
        workloads.cpu_parallel(2, 0.1, target=failing_cpu_worker)


def test_disk_workload_cleans_up(tmp_path: Path) -> None:
    d = workloads.disk_run(tmp_path, 0.05, 0.05, 0.05, 4 * 2**20)
    assert d.bytes_written >= 2**20 and d.write_mbps > 0 and d.read_mbps > 0 and d.iops > 0
    assert d.read_mode in {"o_direct", "fadvise", "cached"}
    assert list(tmp_path.iterdir()) == []


def test_result_round_trip_and_freshness() -> None:
    hw = small_hardware()
    r = fake_result(hw, when=1000.0)
    assert BenchmarkResult.from_dict(r.to_dict()) == r
    assert is_fresh(r, hw, max_age_s=100, now=1050)
    assert not is_fresh(r, hw, max_age_s=10, now=1050)
    assert not is_fresh(r, small_hardware(gpus=(GPU(0, "nvidia", "X", 1),)), 100, now=1050)
    assert r.scores().cpu_multi_ops == 2000.0


def test_ensure_benchmark_stores_and_reuses() -> None:
    store, hw, runner = MemoryStore(), small_hardware(), CountingRunner()
    r1, reused1 = ensure_benchmark(store, hw, runner=runner)
    r2, reused2 = ensure_benchmark(store, hw, runner=runner)
    assert (reused1, reused2) == (False, True) and r1 == r2 == load_benchmark(store)
    ensure_benchmark(store, hw, runner=runner, now=r1.timestamp + 8 * 86400)  # stale
    assert runner.calls == 2 and len(benchmark_history(store)) == 2


def test_gpu_figures_from_nvml_when_no_gpu_library() -> None:
    probe = host_probe("nvidia", nvml=True)
    hw = discover("/data", probe)
    figs = gpu_benchmarks(hw.gpus, probe, 0.1)
    assert [f.source for f in figs] == ["nvml", "nvml"]
    assert figs[0].sm_clock_mhz == 1410 and figs[0].mem_clock_mhz == 1215
    assert figs[0].mem_bandwidth_gbps == 1555.2  # 1215 MHz x 2 x 5120 bit / 8: A100-40GB's spec
    none = gpu_benchmarks((GPU(0, "amd", "MI210", 1),), host_probe("amd"), 0.1)
    assert none[0].source == "none"
    assert fake_pynvml is not None


def test_run_benchmark_small_budget_reports_progress(tmp_path: Path) -> None:
    hw = small_hardware(str(tmp_path))
    seen: list[str] = []
    r = run_benchmark(hw, BenchmarkConfig(budget_s=0.5, cpu_workers=1, memory_bytes=8 * 2**20,
                                          disk_max_bytes=4 * 2**20),
                      progress=lambda p: seen.append(p.step))
    assert r.dms_version == dms.__version__ and r.fingerprint == hw.fingerprint()
    assert r.cpu_single_ops > 0 and r.cpu_multi_ops > 0 and r.cpu_workers == 1
    assert r.memory_copy_gbps > 0 and r.disk_write_mbps > 0 and r.gpus == ()
    assert seen[0] == "cpu_single" and seen[-1] == "done"
    assert {"cpu_multi", "memory", "disk", "gpu"} <= set(seen)


def test_usage_sample(tmp_path: Path) -> None:
    u = dms.resources.usage(tmp_path, host_probe("nvidia", nvml=True), interval_s=0.01)
    assert 0 <= u.cpu_percent <= 100 and 0 < u.ram_used <= u.ram_total
    assert u.disk_total > 0 and [g.index for g in u.gpus] == [0, 1]
    assert u.gpus[0].vram_used == 524_288_000 and u.gpus[0].utilization_percent == 37
    assert u.gpus[1].utilization_percent is None  # "Not Supported" on that one


def test_public_surface_is_pinned() -> None:
    assert sorted(dms.resources.__all__) == sorted([
        "CPU", "GPU", "RAM", "Allocation", "BenchmarkConfig", "BenchmarkResult",
        "BenchmarkScores", "BlockDevice", "Commitment", "Comparison", "ComparisonResult",
        "Disk", "FitResult", "GPUBenchmark", "Hardware", "InsufficientResources", "Location",
        "MachineCapability", "NotOnboarded", "Onboarding", "OnboardingStatus", "Preferences",
        "PricePreferences", "Probe", "Progress", "Requirements", "ResourceManager",
        "ResourceUnderflow", "Resources", "ResourcesInUse", "Snapshot", "UnknownGPU",
        "UnknownReservation", "add", "assign_gpus", "check", "compare", "discover",
        "ensure_benchmark", "fits", "format_size", "load_benchmark", "parse_cores",
        "parse_gpus", "parse_size", "replay", "run_benchmark", "score", "subtract", "total",
        "GPUUsage", "Usage", "usage"])
    for name in dms.resources.__all__:
        assert hasattr(dms.resources, name)
