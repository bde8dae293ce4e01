"""WasmExecutor: runs a WASI command module in-process with wasmtime.

Each workload runs in its own worker thread with its own engine (so an epoch increment
interrupts only that workload). A record per workload in the state dir means a daemon
restart never leaves a workload without one: unfinished records are reported ``lost``.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import asdict
from pathlib import Path
from typing import Any, Literal

import trio
from pydantic import BaseModel, ConfigDict, Field

from dms.errors import ExecutorError
from dms.executor.contract import ExitStatus, Handle, LogLine, WorkloadSpec
from dms.executor.files import read_from
from dms.executor.wasm.runner import Run, RunConfig


class WasmSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state_dir: Path = Field(description="one directory per workload: record, stdout, stderr")
    memory_bytes: int = Field(256 << 20, ge=65536,
                              description="linear memory limit when Limits say nothing")
    fuel: int | None = Field(None, description="instruction budget per workload; None: no fuel")
    poll_interval_s: float = 0.02


class _Live:
    def __init__(self, run: Run) -> None:
        self.run = run
        self.done = trio.Event()
        self.status: ExitStatus | None = None


class WasmExecutor:
    name = "wasm"

    def __init__(self, settings: WasmSettings) -> None:
        self.settings = settings
        self.state_dir = Path(settings.state_dir)
        self._live: dict[str, _Live] = {}

    def is_installed(self) -> bool:
        return True   # wasmtime is a dependency of dms

    def capabilities(self) -> dict[str, Any]:
        return {"runtime": "wasmtime", "wasi": "preview1", "inputs_read_only": True,
                "deadline": "epoch", "fuel": self.settings.fuel is not None,
                "memory_limit": True, "recover": "lost"}

    def _dir(self, wid: str) -> Path:
        if not wid or "/" in wid or wid.startswith("."):
            raise ExecutorError(f"workload id {wid!r} cannot name a directory",
                                hint="use ids without '/' or a leading '.'")
        return self.state_dir / wid

    def _write(self, wid: str, record: dict[str, Any]) -> None:
        path = self._dir(wid) / "record.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(record, sort_keys=True))
        os.replace(tmp, path)

    def _read(self, wid: str) -> dict[str, Any]:
        try:
            data: dict[str, Any] = json.loads((self._dir(wid) / "record.json").read_text())
            return data
        except FileNotFoundError as exc:
            raise ExecutorError(f"no wasm workload {wid}",
                                hint="it was removed, or never started here") from exc

    async def start(self, spec: WorkloadSpec) -> Handle:
        module, wd = self._prepare(spec)
        self._write(spec.id, {"id": spec.id, "module": str(module), "started_at": time.time(),
                              "status": None})
        cfg = RunConfig(module=module, argv=[module.name, *spec.cmd], env=dict(spec.env),
                        stdout=wd / "stdout", stderr=wd / "stderr",
                        memory_bytes=spec.limits.memory_bytes or self.settings.memory_bytes,
                        fuel=self.settings.fuel, inputs_dir=spec.inputs_dir,
                        results_dir=spec.results_dir, deadline_s=spec.deadline_s)
        for p in (cfg.stdout, cfg.stderr):
            p.touch()
        live = _Live(Run(cfg))
        self._live[spec.id] = live
        token = trio.lowlevel.current_trio_token()

        def work() -> None:
            try:
                status = live.run.execute()
            except Exception as exc:   # a bug here must still end the workload
                status = ExitStatus(None, error=f"wasm runtime failure: {exc}")
            live.status = status
            try:
                self._write(spec.id, {**self._read(spec.id), "status": asdict(status)})
            except (OSError, ExecutorError):
                pass   # removed meanwhile
            try:
                token.run_sync_soon(live.done.set)
            except trio.RunFinishedError:
                pass

        threading.Thread(target=work, name=f"wasm-{spec.id}", daemon=True).start()
        return Handle(id=spec.id, executor=self.name, ref=spec.id, meta={"state": "running"})

    def _prepare(self, spec: WorkloadSpec) -> tuple[Path, Path]:
        """Check the spec's paths and make the workload's directories (quick local I/O)."""
        if spec.network or spec.ports or spec.limits.gpus:
            raise ExecutorError("WASI preview 1 modules get no network and no GPUs here",
                                hint="drop network/ports/gpus, or use the docker executor")
        if spec.module is None:
            raise ExecutorError("a wasm workload needs spec.module",
                                hint="point module at a .wasm or .wat file")
        module = Path(spec.module)
        if not module.is_file():
            raise ExecutorError(f"module {module} does not exist", hint="fix spec.module")
        if spec.inputs_dir is not None and not Path(spec.inputs_dir).is_dir():
            raise ExecutorError(f"inputs_dir {spec.inputs_dir} is not a directory",
                                hint="point inputs_dir at an existing directory")
        wd = self._dir(spec.id)
        if wd.exists():
            raise ExecutorError(f"workload {spec.id} already exists",
                                hint="remove() it first or use a new id")
        wd.mkdir(parents=True)
        if spec.results_dir is not None:
            Path(spec.results_dir).mkdir(parents=True, exist_ok=True)
        return module, wd

    async def wait(self, handle: Handle) -> ExitStatus:
        live = self._live.get(handle.id)
        if live is not None:
            await live.done.wait()
            assert live.status is not None
            return live.status
        rec = self._read(handle.id)
        if rec.get("status") is None:   # started by an earlier daemon: it died with it
            return self._mark_lost(handle.id, rec)
        return ExitStatus(**rec["status"])

    def _mark_lost(self, wid: str, rec: dict[str, Any]) -> ExitStatus:
        status = ExitStatus(None, lost=True,
                            error="the daemon restarted while this WebAssembly workload ran; "
                                  "it ran inside the daemon and did not survive")
        self._write(wid, {**rec, "status": asdict(status)})
        return status

    async def cancel(self, handle: Handle) -> None:
        live = self._live.get(handle.id)
        if live is not None and not live.done.is_set():
            live.run.interrupt("cancelled")

    def logs(self, handle: Handle, *, follow: bool = False) -> AsyncIterator[LogLine]:
        return self._logs(handle, follow)

    async def _logs(self, handle: Handle, follow: bool) -> AsyncIterator[LogLine]:
        wd = self._dir(handle.id)
        if not wd.exists():
            raise ExecutorError(f"no wasm workload {handle.id}", hint="it was removed")
        streams: list[tuple[Literal["stdout", "stderr"], Path]] = [
            ("stdout", wd / "stdout"), ("stderr", wd / "stderr")]
        pos = {name: 0 for name, _ in streams}
        buf = {name: b"" for name, _ in streams}
        while True:
            live = self._live.get(handle.id)
            done = not follow or live is None or live.done.is_set()
            got = False
            for name, path in streams:
                data = read_from(path, pos[name])
                pos[name] += len(data)
                got = got or bool(data)
                *lines, buf[name] = (buf[name] + data).split(b"\n")
                for line in lines:
                    yield LogLine(name, line)
            if done and not got:
                break
            if not got:
                await trio.sleep(self.settings.poll_interval_s)
        for name, _ in streams:
            if buf[name]:
                yield LogLine(name, buf[name])

    async def remove(self, handle: Handle) -> None:
        live = self._live.pop(handle.id, None)
        if live is not None and not live.done.is_set():
            live.run.interrupt("cancelled")
            await live.done.wait()
        wd = self._dir(handle.id)
        if wd.exists():
            await trio.to_thread.run_sync(shutil.rmtree, wd, True)

    async def recover(self) -> list[Handle]:
        """Handles for every record; unfinished ones (their daemon died) are marked lost."""
        out: list[Handle] = []
        if not self.state_dir.is_dir():
            return out
        for d in sorted(self.state_dir.iterdir()):
            if not (d / "record.json").is_file() or d.name in self._live:
                continue
            rec = self._read(d.name)
            state = "finished"
            if rec.get("status") is None:
                self._mark_lost(d.name, rec)
                state = "lost"
            out.append(Handle(id=d.name, executor=self.name, ref=d.name,
                              meta={"state": state}))
        return out


__all__ = ["WasmExecutor", "WasmSettings"]
