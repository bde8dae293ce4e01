"""Run one WASI module to completion in the calling (worker) thread.

Blocking by design: :class:`~dms.executor.wasm.executor.WasmExecutor` calls it from a
worker thread. Stopping it from outside is an epoch increment on its own engine
(:meth:`Run.interrupt`): the store's epoch deadline is 1, so the next epoch check in the
guest traps with ``TrapCode.INTERRUPT``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

import wasmtime

from dms.executor.contract import ExitStatus

PAGE = 65536
OOM_FRACTION = 0.75


@dataclass
class RunConfig:
    module: Path
    argv: list[str]
    env: dict[str, str]
    stdout: Path
    stderr: Path
    memory_bytes: int | None
    fuel: int | None = None
    inputs_dir: Path | None = None
    results_dir: Path | None = None
    deadline_s: float | None = None


@dataclass
class Run:
    """One module run; ``interrupt(reason)`` may be called from any thread."""

    config: RunConfig
    engine: wasmtime.Engine = field(init=False)
    reason: str | None = None        # "cancelled" | "timed_out" once interrupted
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        cfg = wasmtime.Config()
        cfg.epoch_interruption = True
        if self.config.fuel is not None:
            cfg.consume_fuel = True
        self.engine = wasmtime.Engine(cfg)

    def interrupt(self, reason: str) -> None:
        with self._lock:
            if self.reason is None:
                self.reason = reason
        self.engine.increment_epoch()

    def _load_module(self) -> wasmtime.Module:
        path = self.config.module
        if path.suffix == ".wat":
            return wasmtime.Module(self.engine, path.read_text())
        return wasmtime.Module(self.engine, path.read_bytes())

    def execute(self) -> ExitStatus:
        """Compile, instantiate and run ``_start``; never raises for guest failures."""
        c = self.config
        timer = None
        if c.deadline_s is not None:
            timer = threading.Timer(c.deadline_s, self.interrupt, args=("timed_out",))
            timer.daemon = True
            timer.start()
        try:
            return self._execute()
        finally:
            if timer is not None:
                timer.cancel()

    def _wasi(self) -> wasmtime.WasiConfig:
        c = self.config
        wasi = wasmtime.WasiConfig()
        wasi.argv = c.argv
        wasi.env = sorted(c.env.items())
        wasi.stdout_file = str(c.stdout)
        wasi.stderr_file = str(c.stderr)
        # fd order is part of the contract: /results is fd 3, then /inputs
        if c.results_dir is not None:
            wasi.preopen_dir(str(c.results_dir), "/results")
        if c.inputs_dir is not None:
            wasi.preopen_dir(str(c.inputs_dir), "/inputs", fs_mutable=False)
        return wasi

    def _execute(self) -> ExitStatus:
        c = self.config
        try:
            module = self._load_module()
        except (wasmtime.WasmtimeError, OSError) as exc:
            return ExitStatus(None, error=f"invalid module {c.module}: {exc}")
        store = wasmtime.Store(self.engine)
        store.set_epoch_deadline(1)
        if c.memory_bytes is not None:
            store.set_limits(memory_size=c.memory_bytes)
        if c.fuel is not None:
            store.set_fuel(c.fuel)
        store.set_wasi(self._wasi())
        linker = wasmtime.Linker(self.engine)
        linker.define_wasi()
        instance = None
        try:
            if self.reason:          # interrupted before it began
                return self._interrupted()
            instance = linker.instantiate(store, module)
            start = instance.exports(store).get("_start")
            if not isinstance(start, wasmtime.Func):
                return ExitStatus(None, error="module exports no _start function (not a WASI "
                                              "command)")
            start(store)
            return ExitStatus(0)
        except wasmtime.ExitTrap as exc:
            if self.reason:
                return self._interrupted()
            return ExitStatus(exc.code, oom_killed=exc.code != 0 and self._at_limit(
                store, instance))
        except wasmtime.Trap as exc:
            if self.reason:
                return self._interrupted()
            if c.fuel is not None and exc.trap_code == wasmtime.TrapCode.OUT_OF_FUEL:
                return ExitStatus(None, timed_out=True, error="out of fuel")
            if self._at_limit(store, instance):
                return ExitStatus(None, oom_killed=True,
                                  error=f"memory limit of {c.memory_bytes} bytes reached: {exc.message}")
            return ExitStatus(None, error=f"trap: {exc.message}")
        except wasmtime.WasmtimeError as exc:
            if self.reason:
                return self._interrupted()
            msg = str(exc)
            if c.memory_bytes is not None and "memory" in msg and (
                    "limit" in msg or "minimum" in msg):
                return ExitStatus(None, oom_killed=True, error=f"memory limit: {msg}")
            return ExitStatus(None, error=f"could not run module: {msg}")

    def _interrupted(self) -> ExitStatus:
        if self.reason == "timed_out":
            return ExitStatus(None, timed_out=True,
                              error=f"deadline of {self.config.deadline_s:g} s exceeded")
        return ExitStatus(None, cancelled=True, error="cancelled")

    def _at_limit(self, store: wasmtime.Store, instance: wasmtime.Instance | None) -> bool:
        """True when the module's memory reached ``OOM_FRACTION`` of the limit.

        wasmtime's C API refuses a ``memory.grow`` past the limit by returning -1 without
        telling the host, so a failure (trap or non-zero exit) with memory that close to
        the limit is reported as the memory limit's doing.
        """
        limit = self.config.memory_bytes
        if limit is None or instance is None:
            return False
        mem = instance.exports(store).get("memory")
        if not isinstance(mem, wasmtime.Memory):
            return False
        return bool(mem.size(store) * PAGE >= OOM_FRACTION * limit)
