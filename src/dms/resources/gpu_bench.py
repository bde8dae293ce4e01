"""GPU figures. With torch and a CUDA/ROCm device: a measured fp32 matmul (TFLOPS) and a
device-to-device copy (GB/s). Otherwise, for NVIDIA, what NVML reports: maximum SM and
memory clocks and the theoretical memory bandwidth (memory clock x 2 (DDR) x bus width),
marked ``source="nvml"``. Other GPUs without torch get ``source="none"``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from dms.resources.model import GPU
from dms.resources.probe import Probe, nvml_session


@dataclass(frozen=True)
class GPUBenchmark:
    index: int
    model: str | None
    source: str  # "torch" | "nvml" | "none"
    sm_clock_mhz: int | None = None
    mem_clock_mhz: int | None = None
    mem_bandwidth_gbps: float | None = None  # measured (torch) or theoretical (nvml)
    tflops_fp32: float | None = None
    note: str | None = None


def gpu_benchmarks(gpus: tuple[GPU, ...], probe: Probe, seconds: float) -> list[GPUBenchmark]:
    if not gpus:
        return []
    nvml = _nvml_figures(probe)
    measured = _torch_figures(gpus, seconds)
    out = []
    for g in gpus:
        idx = g.index if g.index is not None else -1
        base = nvml.get(g.uuid or "", {})
        got = measured.get(g.uuid or "") or (measured.get(str(idx)) if g.vendor == "nvidia" else None)
        if got:
            out.append(GPUBenchmark(index=idx, model=g.model, source="torch",
                                    sm_clock_mhz=base.get("sm"), mem_clock_mhz=base.get("mem"),
                                    **got))
        elif base:
            out.append(GPUBenchmark(index=idx, model=g.model, source="nvml",
                                    sm_clock_mhz=base.get("sm"), mem_clock_mhz=base.get("mem"),
                                    mem_bandwidth_gbps=base.get("bw"),
                                    note="NVML-reported maxima; no GPU library to measure with"))
        else:
            out.append(GPUBenchmark(index=idx, model=g.model, source="none",
                                    note="no torch and no NVML for this GPU: nothing measured"))
    return out


def _nvml_figures(probe: Probe) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    with nvml_session(probe) as nv:
        if nv is None:
            return out
        try:
            for i in range(nv.nvmlDeviceGetCount()):
                h = nv.nvmlDeviceGetHandleByIndex(i)
                uuid = nv.nvmlDeviceGetUUID(h)
                uuid = uuid.decode() if isinstance(uuid, bytes) else str(uuid)
                fig: dict[str, Any] = {}
                for key, clock in (("sm", nv.NVML_CLOCK_SM), ("mem", nv.NVML_CLOCK_MEM)):
                    try:
                        fig[key] = int(nv.nvmlDeviceGetMaxClockInfo(h, clock))
                    except Exception:
                        pass
                try:
                    width = int(nv.nvmlDeviceGetMemoryBusWidth(h))
                    if fig.get("mem"):
                        fig["bw"] = round(fig["mem"] * 1e6 * 2 * width / 8 / 1e9, 1)
                except Exception:
                    pass
                out[uuid] = fig
        except Exception:
            pass
    return out


def _torch_figures(gpus: tuple[GPU, ...], seconds: float) -> dict[str, dict[str, Any]]:
    """Figures keyed by ``GPU-<uuid>`` where torch knows it, else by torch device number."""
    try:
        import torch  # optional
    except ImportError:
        return {}
    if not torch.cuda.is_available():
        return {}
    out: dict[str, dict[str, Any]] = {}
    per = max(0.2, seconds / max(1, len(gpus)))
    for dev in range(torch.cuda.device_count()):
        d = torch.device("cuda", dev)
        a = torch.randn(4096, 4096, device=d)
        b = torch.randn(4096, 4096, device=d)
        torch.cuda.synchronize(d)
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < per / 2:
            a @ b
            n += 1
            torch.cuda.synchronize(d)
        flops = n * 2 * 4096**3 / (time.perf_counter() - start)
        src = torch.empty(256 * 2**20, dtype=torch.uint8, device=d)
        dst = torch.empty_like(src)
        torch.cuda.synchronize(d)
        m, start = 0, time.perf_counter()
        while time.perf_counter() - start < per / 2:
            dst.copy_(src)
            m += 1
            torch.cuda.synchronize(d)
        bw = m * src.numel() * 2 / (time.perf_counter() - start) / 1e9  # read + write
        uuid = getattr(torch.cuda.get_device_properties(d), "uuid", None)
        out[f"GPU-{uuid}" if uuid else str(dev)] = {"tflops_fp32": round(flops / 1e12, 2), "mem_bandwidth_gbps": round(bw, 1)}
    return out
