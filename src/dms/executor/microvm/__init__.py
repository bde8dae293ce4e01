"""The microVM executor: QEMU ``-M microvm`` or Firecracker, one VM per workload."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pydantic

from dms.errors import ConfigError
from dms.executor.microvm.backend import Disk, LaunchPlan, VMMBackend
from dms.executor.microvm.executor import MicroVMExecutor
from dms.executor.microvm.firecracker import FirecrackerBackend
from dms.executor.microvm.qemu import QemuBackend
from dms.executor.microvm.settings import MicroVMSettings

__all__ = ["Disk", "FirecrackerBackend", "LaunchPlan", "MicroVMExecutor", "MicroVMSettings",
           "QemuBackend", "VMMBackend", "build"]


def _default_state_dir() -> Path:
    home = Path(os.environ.get("DMS_HOME") or Path.home() / ".dms").expanduser()
    return home / "work" / "microvm"


def build(settings: Any = None) -> MicroVMExecutor:
    """Registry entry point: ``settings`` is a MicroVMSettings, a dict of its fields, or None
    (state under ``$DMS_HOME/work/microvm``)."""
    if isinstance(settings, MicroVMSettings):
        return MicroVMExecutor(settings)
    try:
        if settings is None:
            data: dict[str, Any] = {}
        elif isinstance(settings, dict):
            data = dict(settings)
        else:
            data = MicroVMSettings.model_validate(settings, from_attributes=True).model_dump()
        data.setdefault("state_dir", _default_state_dir())
        return MicroVMExecutor(MicroVMSettings.model_validate(data))
    except pydantic.ValidationError as exc:
        fields = ", ".join(MicroVMSettings.model_fields)
        raise ConfigError(f"bad microvm executor settings: {exc}",
                          hint=f"the microvm section takes: {fields}") from exc
