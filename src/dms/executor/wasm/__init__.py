"""The WebAssembly executor: WASI command modules under wasmtime, in process."""

from dms.executor.wasm.executor import WasmExecutor, WasmSettings
from dms.executor.wasm.runner import Run, RunConfig

__all__ = ["Run", "RunConfig", "WasmExecutor", "WasmSettings"]
