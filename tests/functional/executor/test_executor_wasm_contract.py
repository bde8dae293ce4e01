"""The executor contract suite against the WebAssembly executor (real wasmtime)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from dms.executor.contract import Handle, Limits, WorkloadSpec
from dms.executor.wasm import WasmExecutor, WasmSettings
from dms.executor.wasm import examples as wat
from dms.testing import executor_contract as contract

pytestmark = pytest.mark.functional



MODULES: dict[str, str] = {
    "hello": wat.hello_wat("hello\n"),
    "exit3": wat.hello_wat("", exit_code=3),
    "oom": wat.grow_memory_wat(),
    "sleep": wat.sleep_wat(3_600_000),
    "results": wat.write_file_wat(3, "out.txt", "result\n"),
    "stream": wat.sleep_wat(3_600_000, before="tick 1\ntick 2\n"),
    "nap": wat.sleep_wat(2000),
}


@pytest.fixture
def wasm_settings(tmp_path: Path) -> WasmSettings:
    return WasmSettings(state_dir=tmp_path / "wasm")


@pytest.fixture
def executor(wasm_settings: WasmSettings) -> WasmExecutor:
    return WasmExecutor(wasm_settings)


@pytest.fixture
def restarted_executor(wasm_settings: WasmSettings) -> Callable[[], WasmExecutor]:
    return lambda: WasmExecutor(wasm_settings)


@pytest.fixture
def make_workload(tmp_path: Path) -> Callable[..., WorkloadSpec]:
    def make(kind: str, *, results_dir: Path | None = None,
             deadline_s: float | None = None) -> WorkloadSpec:
        module = tmp_path / f"{kind}.wat"
        module.write_text(MODULES[kind])
        limits = Limits(memory_bytes=8 << 20) if kind == "oom" else Limits()
        return WorkloadSpec(id=f"wasm-{kind}-{uuid.uuid4().hex[:8]}", executor="wasm",
                            module=module, limits=limits, results_dir=results_dir,
                            deadline_s=deadline_s)
    return make


@pytest.fixture
def recover_mode() -> str:
    return "lost"


@pytest.fixture
def leftovers(wasm_settings: WasmSettings) -> Callable[[Handle], list[str]]:
    def find(handle: Handle) -> list[str]:
        wd = wasm_settings.state_dir / handle.id
        return [str(wd)] if wd.exists() else []
    return find


class TestWasmContract(contract.ExecutorContract):
    pass
