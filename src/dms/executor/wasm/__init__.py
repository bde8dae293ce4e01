"""The WebAssembly executor: WASI command modules under wasmtime, in process."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pydantic

from dms.errors import ConfigError
from dms.executor.wasm.executor import WasmExecutor, WasmSettings
from dms.executor.wasm.runner import Run, RunConfig

__all__ = ["Run", "RunConfig", "WasmExecutor", "WasmSettings", "build"]


def _default_state_dir() -> Path:
    home = Path(os.environ.get("DMS_HOME") or Path.home() / ".dms").expanduser()
    return home / "work" / "wasm"


def build(settings: Any = None) -> WasmExecutor:
    """Registry entry point: ``settings`` is a WasmSettings, a dict of its fields, or None
    (state under ``$DMS_HOME/work/wasm``)."""
    if isinstance(settings, WasmSettings):
        return WasmExecutor(settings)
    try:
        if settings is None:
            data: dict[str, Any] = {}
        elif isinstance(settings, dict):
            data = dict(settings)
        else:
            data = WasmSettings.model_validate(settings, from_attributes=True).model_dump()
        data.setdefault("state_dir", _default_state_dir())
        return WasmExecutor(WasmSettings.model_validate(data))
    except pydantic.ValidationError as exc:
        fields = ", ".join(WasmSettings.model_fields)
        raise ConfigError(f"bad wasm executor settings: {exc}",
                          hint=f"the wasm section takes: {fields}") from exc
