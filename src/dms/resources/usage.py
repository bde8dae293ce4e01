"""What the machine is using right now (for `dms hardware usage`), whoever uses it.

    usage(work_dir) ──▶ Usage{cpu_percent, load_1m, ram_used/total, disk_used/total,
                              gpus: [GPUUsage{index, utilization %, vram_used/total}]}

CPU, RAM and disk come from psutil; NVIDIA GPUs from NVML (others: none listed yet).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psutil

from dms.resources.probe import Probe, nvml_session


@dataclass(frozen=True)
class GPUUsage:
    index: int
    utilization_percent: float | None
    vram_used: int
    vram_total: int


@dataclass(frozen=True)
class Usage:
    cpu_percent: float
    load_1m: float
    ram_used: int
    ram_total: int
    disk_used: int
    disk_total: int
    gpus: tuple[GPUUsage, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def usage(work_dir: str | Path, probe: Probe | None = None, interval_s: float = 0.1) -> Usage:
    """A sample; blocks ``interval_s`` to measure CPU use (from trio: a worker thread)."""
    p = probe or Probe()
    vm = psutil.virtual_memory()
    disk = psutil.disk_usage(str(work_dir))
    return Usage(cpu_percent=psutil.cpu_percent(interval=interval_s), load_1m=os.getloadavg()[0],
                 ram_used=int(vm.total - vm.available), ram_total=int(vm.total),
                 disk_used=int(disk.used), disk_total=int(disk.total),
                 gpus=tuple(nvidia_usage(p)))


def nvidia_usage(p: Probe) -> list[GPUUsage]:
    out: list[GPUUsage] = []
    with nvml_session(p) as nv:
        if nv is None:
            return out
        try:
            for i in range(nv.nvmlDeviceGetCount()):
                h = nv.nvmlDeviceGetHandleByIndex(i)
                mem = nv.nvmlDeviceGetMemoryInfo(h)
                try:
                    util: float | None = float(nv.nvmlDeviceGetUtilizationRates(h).gpu)
                except Exception:
                    util = None
                out.append(GPUUsage(i, util, int(mem.used), int(mem.total)))
        except Exception:
            pass
    return out
