"""The WebAssembly executor: WASI command modules under wasmtime, in process."""

from __future__ import annotations

from typing import Any

from dms.executor.registry import default_state_dir, parse_settings
from dms.executor.wasm.executor import WasmExecutor, WasmSettings
from dms.executor.wasm.runner import Run, RunConfig

__all__ = ["Run", "RunConfig", "WasmExecutor", "WasmSettings", "build"]


def build(settings: Any = None) -> WasmExecutor:
    """Registry entry point: ``settings`` is a WasmSettings, a dict of its fields, or None
    (state under ``$DMS_HOME/work/wasm``)."""
    return WasmExecutor(parse_settings(WasmSettings, settings, "wasm",
                                       {"state_dir": default_state_dir("wasm")}))
