"""The microVM executor: QEMU ``-M microvm`` or Firecracker, one VM per workload."""

from __future__ import annotations

from typing import Any

from dms.executor.microvm.backend import Disk, LaunchPlan, VMMBackend
from dms.executor.microvm.executor import MicroVMExecutor
from dms.executor.microvm.firecracker import FirecrackerBackend
from dms.executor.microvm.qemu import QemuBackend
from dms.executor.microvm.settings import MicroVMSettings
from dms.executor.registry import default_state_dir, parse_settings

__all__ = ["Disk", "FirecrackerBackend", "LaunchPlan", "MicroVMExecutor", "MicroVMSettings",
           "QemuBackend", "VMMBackend", "build"]


def build(settings: Any = None) -> MicroVMExecutor:
    """Registry entry point: ``settings`` is a MicroVMSettings, a dict of its fields, or None
    (state under ``$DMS_HOME/work/microvm``)."""
    return MicroVMExecutor(parse_settings(MicroVMSettings, settings, "microvm",
                                {"state_dir": default_state_dir("microvm")}))
