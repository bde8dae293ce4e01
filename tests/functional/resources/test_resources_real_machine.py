"""Discovery and onboarding on this machine, with the real SQLite store."""

from __future__ import annotations

import multiprocessing as mp
import os
import threading
from pathlib import Path

import psutil
import pytest

from dms.resources import (
    BenchmarkConfig,
    Onboarding,
    ResourceManager,
    Resources,
    discover,
    load_benchmark,
)
from dms.resources.errors import InsufficientResources
from dms.store import open_store

pytestmark = pytest.mark.functional
GiB = 2**30
FAST = BenchmarkConfig(budget_s=2.0, disk_max_bytes=64 * 2**20, memory_bytes=32 * 2**20)


def test_discovery_matches_what_the_os_says(tmp_path: Path) -> None:
    hw = discover(tmp_path)
    assert hw.cpu.threads == os.cpu_count()
    assert hw.cpu.cores == psutil.cpu_count(logical=False)
    assert hw.cpu.model and hw.cpu.architecture and hw.cpu.clock_speed_hz
    assert abs(hw.ram.size - psutil.virtual_memory().total) < 64 * 2**20
    usage = psutil.disk_usage(str(tmp_path))
    assert hw.work_disk.size == usage.total
    assert abs(hw.work_free - usage.free) < 2**30  # others write meanwhile
    assert hw.disks, "no block device found under /sys/block"
    # GPUs the kernel knows: NVIDIA driver entries + amdgpu/i915 DRM cards
    nvidia = list(Path("/proc/driver/nvidia/gpus").glob("*"))
    drm = [c for c in Path("/sys/class/drm").glob("card*")
           if c.name[4:].isdigit() and (c / "device/vendor").read_text().strip()
           in ("0x1002", "0x8086")]
    assert len(hw.gpus) == len(nvidia) + len(drm)  # none here: an empty list, no error
    assert [g.index for g in hw.gpus] == list(range(len(hw.gpus)))
    assert hw.capacity().cpu.cores == float(os.cpu_count() or 0)


def test_onboard_reopen_keeps_everything(tmp_path: Path) -> None:
    db = tmp_path / "home" / "store.db"
    work = tmp_path / "work"
    work.mkdir()
    store = open_store(db)
    ob = Onboarding(store, work, benchmark_config=FAST)
    lines: list[str] = []
    st = ob.onboard(1, "1GiB", "2GiB", no_gpu=True, progress=lambda p: lines.append(p.line()))
    assert any("CPU single-thread:" in line for line in lines)
    bench = st.benchmark
    assert bench is not None and bench.cpu_single_ops > 0 and bench.disk_write_mbps > 0
    onboarded = st.resources.onboarded
    assert onboarded is not None and st.resources.free == onboarded
    ob.resources.commit("a1", Resources.of(0.5, 256 * 2**20, GiB), expiry_s=3600)
    ob.resources.allocate("a1")
    ob.resources.commit("c1", Resources.of(0.25, 128 * 2**20, 0), expiry_s=3600)
    free_before = ob.resources.free()
    assert free_before.amounts() == Resources.of(0.25, 640 * 2**20, GiB)
    store.close()

    store2 = open_store(db)  # a restart: a new store and a new service over the same file
    ob2 = Onboarding(store2, work, benchmark_config=FAST)
    st2 = ob2.status()
    assert st2.onboarded and st2.resources.onboarded == onboarded
    assert st2.benchmark == bench == load_benchmark(store2)
    assert set(st2.resources.allocated) == {"a1"} and set(st2.resources.committed) == {"c1"}
    assert st2.resources.free == free_before
    ob2.resources.release("a1")
    ob2.resources.release("c1")
    assert ob2.resources.free() == onboarded
    st3 = ob2.onboard(1, "1GiB", "2GiB", no_gpu=True)  # fresh benchmark reused
    assert st3.benchmark_reused is True
    store2.close()


def test_sqlite_threads_racing_for_the_last_core(tmp_path: Path) -> None:
    store = open_store(tmp_path / "s.db")
    ResourceManager(store).set_onboarded(Resources.of(cores=1, ram=GiB))
    barrier, wins = threading.Barrier(8), []

    def racer(i: int) -> None:
        barrier.wait()
        if ResourceManager(store).try_commit(f"t{i}", Resources.of(cores=1), 60):
            wins.append(i)

    threads = [threading.Thread(target=racer, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1
    store.close()


def _process_racer(db: str, i: int, barrier: object, out: object) -> None:
    store = open_store(Path(db))
    barrier.wait()  # type: ignore[attr-defined]
    try:
        ok = ResourceManager(store).try_commit(f"p{i}", Resources.of(cores=1), 60)
    except Exception as exc:  # report, do not hang the parent
        ok = repr(exc)  # type: ignore[assignment]
    out.put(ok)  # type: ignore[attr-defined]
    store.close()


def test_two_processes_racing_on_one_sqlite_file(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    store = open_store(db)
    ResourceManager(store).set_onboarded(Resources.of(cores=1, ram=GiB))
    store.close()
    ctx = mp.get_context("spawn")
    barrier, out = ctx.Barrier(4), ctx.Queue()
    procs = [ctx.Process(target=_process_racer, args=(str(db), i, barrier, out)) for i in range(4)]
    for p in procs:
        p.start()
    results = [out.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    assert sorted(map(str, results)) == ["False", "False", "False", "True"], results
    store = open_store(db)
    with pytest.raises(InsufficientResources):
        ResourceManager(store).commit("late", Resources.of(cores=1), 60)
    store.close()
