"""A stand-in for ``pynvml`` (nvidia-ml-py) that answers from a recorded ``nvml.json``.

``load(path)`` returns a module-like object with the NVML calls discovery and the GPU
benchmark use. ``load(None)`` behaves like a host without the NVIDIA driver: ``nvmlInit``
raises the same error class the real binding raises."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

NVML_CLOCK_SM, NVML_CLOCK_MEM = 1, 2


class NVMLError(Exception):
    pass


class NVMLError_LibraryNotFound(NVMLError):
    def __str__(self) -> str:
        return "NVML Shared Library Not Found"


class FakeNVML:
    NVML_CLOCK_SM = NVML_CLOCK_SM
    NVML_CLOCK_MEM = NVML_CLOCK_MEM
    NVMLError = NVMLError

    def __init__(self, data: dict[str, Any] | None) -> None:
        self.data = data
        self.initialised = 0
        self.calls: list[str] = []

    def nvmlInit(self) -> None:
        if self.data is None:
            raise NVMLError_LibraryNotFound()
        self.initialised += 1

    def nvmlShutdown(self) -> None:
        self.initialised -= 1

    def _dev(self, h: int) -> dict[str, Any]:
        assert self.initialised > 0, "NVML call before nvmlInit"
        assert self.data is not None
        return self.data["devices"][h]

    def nvmlDeviceGetCount(self) -> int:
        assert self.data is not None and self.initialised > 0
        return len(self.data["devices"])

    def nvmlDeviceGetHandleByIndex(self, i: int) -> int:
        return i

    def nvmlDeviceGetName(self, h: int) -> str:
        return self._dev(h)["name"]

    def nvmlDeviceGetUUID(self, h: int) -> str:
        return self._dev(h)["uuid"]

    def nvmlDeviceGetMemoryInfo(self, h: int) -> SimpleNamespace:
        total = self._dev(h)["memory_total"]
        return SimpleNamespace(total=total, free=total - 524_288_000, used=524_288_000)

    def nvmlDeviceGetPciInfo(self, h: int) -> SimpleNamespace:
        return SimpleNamespace(busId=self._dev(h)["bus_id"])

    def nvmlDeviceGetMaxClockInfo(self, h: int, clock: int) -> int:
        return self._dev(h)["max_clock_sm" if clock == NVML_CLOCK_SM else "max_clock_mem"]

    def nvmlDeviceGetUtilizationRates(self, h: int) -> SimpleNamespace:
        d = self._dev(h)
        if "utilization_gpu" not in d:
            raise NVMLError("Not Supported")
        return SimpleNamespace(gpu=d["utilization_gpu"], memory=d.get("utilization_memory", 0))

    def nvmlDeviceGetMemoryBusWidth(self, h: int) -> int:
        return self._dev(h)["memory_bus_width"]


def load(path: Path | None) -> FakeNVML:
    return FakeNVML(json.loads(path.read_text()) if path is not None else None)
