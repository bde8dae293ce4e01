"""The WebAssembly executor on real wasmtime (in process, fast): WASI wiring and limits."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from dms.errors import ExecutorError
from dms.executor.contract import Limits, WorkloadSpec
from dms.executor.wasm import Run, RunConfig, WasmExecutor, WasmSettings
from dms.executor.wasm import examples as wat

pytestmark = pytest.mark.unit


def _module(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.wat"
    path.write_text(text)
    return path


def _config(tmp_path: Path, module: Path, **kw: object) -> RunConfig:
    base: dict[str, object] = dict(module=module, argv=[module.name], env={},
                                   stdout=tmp_path / "out", stderr=tmp_path / "err",
                                   memory_bytes=16 << 20)
    base.update(kw)
    return RunConfig(**base)  # type: ignore[arg-type]


@pytest.fixture
def executor(tmp_path: Path) -> WasmExecutor:
    return WasmExecutor(WasmSettings(state_dir=tmp_path / "state"))


async def _run(ex: WasmExecutor, spec: WorkloadSpec) -> tuple[object, object]:
    h = await ex.start(spec)
    with trio.fail_after(20):
        return h, await ex.wait(h)


async def test_args_and_env_reach_the_module(tmp_path: Path, executor: WasmExecutor) -> None:
    mod = _module(tmp_path, "echo", wat.args_env_wat())
    spec = WorkloadSpec(id="a", executor="wasm", module=mod, cmd=("one", "two words"),
                        env={"GREETING": "hi there"})
    h = await executor.start(spec)
    status = await executor.wait(h)
    assert status.ok, status
    out = b"".join([ln.data async for ln in executor.logs(h) if ln.stream == "stdout"])
    assert out.split(b"\0")[:3] == [b"echo.wat", b"one", b"two words"]
    assert b"GREETING=hi there\0" in out


async def test_stdout_and_stderr_are_separate_streams(tmp_path: Path,
                                                      executor: WasmExecutor) -> None:
    mod = _module(tmp_path, "h", wat.hello_wat("to out\n", "to err\n", exit_code=7))
    h = await executor.start(WorkloadSpec(id="h", executor="wasm", module=mod))
    status = await executor.wait(h)
    assert status.exit_code == 7 and not status.ok and status.error is None
    lines = [(ln.stream, ln.data) async for ln in executor.logs(h)]
    assert ("stdout", b"to out") in lines and ("stderr", b"to err") in lines


async def test_inputs_are_read_only_and_results_writable(tmp_path: Path,
                                                         executor: WasmExecutor) -> None:
    inputs, results = tmp_path / "in", tmp_path / "res"
    inputs.mkdir()
    # /results is fd 3 and /inputs fd 4 when both are given
    write_in = _module(tmp_path, "wi", wat.write_file_wat(4, "x.txt", "nope"))
    _, status = await _run(executor, WorkloadSpec(id="wi", executor="wasm", module=write_in,
                                                  inputs_dir=inputs, results_dir=results))
    assert status.exit_code not in (0, None), f"writing to /inputs succeeded: {status}"
    assert not (inputs / "x.txt").exists()
    write_res = _module(tmp_path, "wr", wat.write_file_wat(3, "y.txt", "yes"))
    _, status = await _run(executor, WorkloadSpec(id="wr", executor="wasm", module=write_res,
                                                  inputs_dir=inputs, results_dir=results))
    assert status.ok, status
    assert (results / "y.txt").read_text() == "yes"


def test_memory_minimum_over_the_limit_is_oom(tmp_path: Path) -> None:
    mod = _module(tmp_path, "big", '(module (memory (export "memory") 64) '
                                   '(func (export "_start")))')
    status = Run(_config(tmp_path, mod, memory_bytes=1 << 20)).execute()
    assert status.oom_killed and not status.ok, status
    assert status.error and "memory" in status.error


def test_grow_within_the_limit_then_trap_is_not_oom(tmp_path: Path) -> None:
    mod = _module(tmp_path, "trap", '(module (memory (export "memory") 1) '
                                    '(func (export "_start") unreachable))')
    status = Run(_config(tmp_path, mod)).execute()
    assert not status.oom_killed and status.exit_code is None
    assert status.error and "unreachable" in status.error


def test_fuel_runs_out_as_a_timeout(tmp_path: Path) -> None:
    mod = _module(tmp_path, "spin", wat.spin_wat())
    status = Run(_config(tmp_path, mod, fuel=100_000)).execute()
    assert status.timed_out and "fuel" in (status.error or ""), status


def test_invalid_module_and_missing_start_are_errors(tmp_path: Path) -> None:
    bad = _module(tmp_path, "bad", "(module (func")
    status = Run(_config(tmp_path, bad)).execute()
    assert status.exit_code is None and "invalid module" in (status.error or "")
    lib = _module(tmp_path, "lib", "(module (func (export \"f\")))")
    status = Run(_config(tmp_path, lib)).execute()
    assert "_start" in (status.error or "")


def test_binary_wasm_modules_run(tmp_path: Path) -> None:
    import wasmtime
    path = tmp_path / "hello.wasm"
    path.write_bytes(wasmtime.wat2wasm(wat.hello_wat("bin\n", exit_code=2)))
    status = Run(_config(tmp_path, path)).execute()
    assert status.exit_code == 2
    assert (tmp_path / "out").read_bytes() == b"bin\n"


async def test_interrupt_before_start_reports_cancel(tmp_path: Path) -> None:
    run = Run(_config(tmp_path, _module(tmp_path, "s", wat.spin_wat())))
    run.interrupt("cancelled")
    assert run.execute().cancelled


async def test_restart_marks_unfinished_records_lost(tmp_path: Path,
                                                     executor: WasmExecutor) -> None:
    mod = _module(tmp_path, "s", wat.sleep_wat(60_000))
    h = await executor.start(WorkloadSpec(id="s1", executor="wasm", module=mod))
    fresh = WasmExecutor(executor.settings)
    found = {x.id: x for x in await fresh.recover()}
    assert found["s1"].meta["state"] == "lost"
    status = await fresh.wait(found["s1"])
    assert status.lost and "restarted" in (status.error or "")
    await executor.remove(h)
    assert await WasmExecutor(executor.settings).recover() == []


async def test_bad_specs_are_rejected_with_hints(tmp_path: Path,
                                                 executor: WasmExecutor) -> None:
    with pytest.raises(ExecutorError, match=r"needs spec\.module") as err:
        await executor.start(WorkloadSpec(id="x", executor="wasm"))
    assert err.value.hint
    with pytest.raises(ExecutorError, match="does not exist"):
        await executor.start(WorkloadSpec(id="x", executor="wasm", module=tmp_path / "no.wat"))
    mod = _module(tmp_path, "h", wat.hello_wat())
    await executor.start(WorkloadSpec(id="dup", executor="wasm", module=mod))
    with pytest.raises(ExecutorError, match="already exists"):
        await executor.start(WorkloadSpec(id="dup", executor="wasm", module=mod))
    with pytest.raises(ExecutorError, match="cannot name a directory"):
        await executor.start(WorkloadSpec(id="../x", executor="wasm", module=mod))
    with pytest.raises(ExecutorError, match="no network"):
        await executor.start(WorkloadSpec(id="net", executor="wasm", module=mod, network=True))


def test_capabilities_are_json(executor: WasmExecutor) -> None:
    import json
    caps = executor.capabilities()
    assert json.loads(json.dumps(caps))["runtime"] == "wasmtime"
    assert executor.is_installed()


async def test_memory_limit_from_limits(tmp_path: Path, executor: WasmExecutor) -> None:
    mod = _module(tmp_path, "g", wat.grow_memory_wat(1))
    _, status = await _run(executor, WorkloadSpec(id="g", executor="wasm", module=mod,
                                                  limits=Limits(memory_bytes=2 << 20)))
    assert status.oom_killed and not status.ok, status


def test_build_from_settings_dict_and_errors(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import dms.executor.wasm as wasm
    from dms.errors import ConfigError

    assert set(wasm.__all__) == {"Run", "RunConfig", "WasmExecutor", "WasmSettings", "build"}
    ex = wasm.build({"state_dir": str(tmp_path / "w"), "fuel": 10})
    assert ex.state_dir == tmp_path / "w" and ex.capabilities()["fuel"] is True
    monkeypatch.setenv("DMS_HOME", str(tmp_path / "home"))
    assert wasm.build(None).state_dir == tmp_path / "home" / "work" / "wasm"
    with pytest.raises(ConfigError, match="bad wasm executor settings"):
        wasm.build({"memory_bytes": 1})
