"""The microVM executor: QEMU ``-M microvm`` or Firecracker, one VM per workload."""

from dms.executor.microvm.backend import Disk, LaunchPlan, VMMBackend
from dms.executor.microvm.executor import MicroVMExecutor
from dms.executor.microvm.firecracker import FirecrackerBackend
from dms.executor.microvm.qemu import QemuBackend
from dms.executor.microvm.settings import MicroVMSettings

__all__ = ["Disk", "FirecrackerBackend", "LaunchPlan", "MicroVMExecutor", "MicroVMSettings",
           "QemuBackend", "VMMBackend"]
