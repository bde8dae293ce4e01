"""Helpers shared by the resources unit tests (a unique module name, unlike conftest)."""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dms
from dms.resources.benchmark import BenchmarkResult
from dms.resources.discovery import BlockDevice, Hardware
from dms.resources.model import CPU, GPU, RAM, Disk
from dms.resources.probe import Probe, replay

HW_DATA = Path(__file__).resolve().parents[2] / "data" / "hardware"
GiB = 2**30


def _load_fake_nvml_module() -> Any:
    spec = importlib.util.spec_from_file_location("fake_pynvml", HW_DATA / "fake_pynvml.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("fake_pynvml", mod)
    spec.loader.exec_module(mod)
    return mod


fake_pynvml = _load_fake_nvml_module()


def host_probe(name: str, *, nvml: bool = False, commands: dict[str, str] | None = None,
               dev: tuple[int, int] | None = None, usage: tuple[int, int] = (1000 * GiB, 800 * GiB),
               ) -> Probe:
    """A Probe replaying the recorded host ``tests/data/hardware/<name>``."""
    root = HW_DATA / name
    nv = fake_pynvml.load(root / "nvml.json" if nvml else None)
    return Probe(root=root, run=replay(commands or {}), nvml=lambda: nv,
                 machine=lambda: "should-not-be-called", disk_usage=lambda _p: usage,
                 stat_dev=lambda _p: dev)


def rocm_answers() -> dict[str, str]:
    return {"rocm-smi --showproductname --showmeminfo vram --showuniqueid --showbus --json":
            (HW_DATA / "amd" / "rocm-smi.json").read_text()}


def xpu_answers() -> dict[str, str]:
    data = json.loads((HW_DATA / "intel" / "xpu-smi.json").read_text())
    return {"xpu-smi discovery -j": json.dumps(data["discovery"]),
            "xpu-smi discovery -d 0 -j": json.dumps(data["discovery -d 0"])}


def small_hardware(work_dir: str = "/work", gpus: tuple[GPU, ...] = ()) -> Hardware:
    return Hardware(cpu=CPU(cores=2, clock_speed_hz=2_600_000_000, architecture="amd64",
                            model="Test CPU", vendor="intel", threads=2, cache_bytes=2**20),
                    ram=RAM(size=8 * GiB), disks=(BlockDevice("vda", 100 * GiB, "ssd"),),
                    work_dir=work_dir, work_disk=Disk(size=100 * GiB, type="ssd"),
                    work_free=50 * GiB, gpus=gpus)


def fake_result(hw: Hardware, when: float | None = None) -> BenchmarkResult:
    return BenchmarkResult(timestamp=time.time() if when is None else when,
                           dms_version=dms.__version__, duration_s=0.01, budget_s=0.01,
                           fingerprint=hw.fingerprint(), cpu_single_ops=1000.0,
                           cpu_multi_ops=2000.0, cpu_workers=2, memory_copy_gbps=5.0,
                           disk_write_mbps=500.0, disk_read_mbps=600.0, disk_read_mode="o_direct",
                           disk_iops=10000.0, disk_iops_mode="o_direct")


class CountingRunner:
    """A benchmark runner returning a fixed result, counting calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, hw: Hardware, config: Any, progress: Callable[..., None] | None,
                 probe: Any) -> BenchmarkResult:
        self.calls += 1
        return fake_result(hw)


class _SlowCollection:
    def __init__(self, inner: Any, delay: float) -> None:
        self._inner, self._delay = inner, delay
        self.name = inner.name

    def query(self, *a: Any, **k: Any) -> Any:
        out = self._inner.query(*a, **k)
        time.sleep(self._delay)  # widen the check-then-write window, as real I/O does
        return out

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class SlowStore:
    """Wraps a store so every collection query takes ``delay`` seconds longer: without a
    working transaction, racing check-and-set callers then reliably interleave."""

    def __init__(self, inner: Any, delay: float = 0.002) -> None:
        self._inner, self._delay = inner, delay

    def collection(self, name: str) -> Any:
        return _SlowCollection(self._inner.collection(name), self._delay)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def failing_cpu_worker(barrier: Any, duration_s: float, results: Any) -> None:
    """A CPU benchmark worker that dies after the start barrier (exit code 3)."""
    barrier.wait(timeout=60)
    import os

    os._exit(3)
