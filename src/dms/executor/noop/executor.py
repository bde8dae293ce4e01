"""The noop executor: workloads that live in memory, on trio's clock.

Nothing runs: a workload's life is computed from its :class:`NoopBehavior` and the
time it started, so tests of upper layers get exit codes, logs, OOM kills, deadlines
and cancellations without a daemon. The state lives in a :class:`NoopBackend`; two
executors on one backend model a daemon restart (``recover()`` finds the workloads).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import trio

from dms.errors import ExecutorError
from dms.executor.contract import ExitStatus, Handle, LogLine, WorkloadSpec
from dms.executor.noop.behavior import BehaviorSource, NoopBehavior, behavior_for

_refs = itertools.count(1)


@dataclass
class _Record:
    spec: WorkloadSpec
    behavior: NoopBehavior
    ref: str
    started_at: float
    status: ExitStatus | None = None
    ended_at: float | None = None
    changed: trio.Event = field(default_factory=trio.Event)

    @property
    def natural_end(self) -> float:
        return self.started_at + self.behavior.delay_s

    @property
    def deadline_end(self) -> float:
        d = self.spec.deadline_s
        return math.inf if d is None else self.started_at + d

    def finish(self, status: ExitStatus, at: float) -> None:
        if self.status is None:
            self.status, self.ended_at = status, at
            self.changed.set()

    def settle(self, now: float) -> None:
        """Apply whatever end has been reached by ``now``."""
        if self.status is not None:
            return
        if self.deadline_end <= now and self.deadline_end < self.natural_end:
            self.finish(ExitStatus(exit_code=None, timed_out=True,
                                   error=f"deadline of {self.spec.deadline_s} s exceeded"),
                        self.deadline_end)
        elif self.natural_end <= now:
            self.finish(self.behavior.natural_exit(self.spec), self.natural_end)
            self._write_results()

    def _write_results(self) -> None:
        out = self.spec.results_dir
        if out is None or not self.behavior.results:
            return
        out.mkdir(parents=True, exist_ok=True)
        for name, data in self.behavior.results.items():
            (out / name).write_bytes(data)


@dataclass
class NoopBackend:
    """The "daemon": survives executor instances, like dockerd survives dms."""

    records: dict[str, _Record] = field(default_factory=dict)

    def ids(self) -> list[str]:
        return sorted(self.records)


class NoopExecutor:
    """In-memory executor with injectable behavior (see :class:`NoopBehavior`)."""

    name = "noop"

    def __init__(self, behavior: BehaviorSource | None = None, *,
                 backend: NoopBackend | None = None, installed: bool = True) -> None:
        self.behavior: BehaviorSource = behavior or NoopBehavior()
        self.backend = backend if backend is not None else NoopBackend()
        self.installed = installed
        self.started: list[WorkloadSpec] = []   # every spec start() saw, for assertions

    def is_installed(self) -> bool:
        return self.installed

    def capabilities(self) -> dict[str, Any]:
        return {"gpus": [], "network": True, "recover": "reattach"}

    def _record(self, handle: Handle) -> _Record | None:
        rec = self.backend.records.get(handle.id)
        if rec is None:
            return None
        rec.settle(trio.current_time())
        return rec

    async def start(self, spec: WorkloadSpec) -> Handle:
        await trio.lowlevel.checkpoint()
        self.started.append(spec)
        behavior = behavior_for(self.behavior, spec)
        if behavior.fail_on_start is not None:
            raise ExecutorError(behavior.fail_on_start,
                                hint="the noop executor was told to fail this start")
        if spec.id in self.backend.records:
            raise ExecutorError(f"workload {spec.id!r} already exists",
                                hint="remove the old workload first or use a new id")
        ref = f"noop-{next(_refs)}"
        self.backend.records[spec.id] = _Record(spec, behavior, ref, trio.current_time())
        return Handle(id=spec.id, executor=self.name, ref=ref)

    async def wait(self, handle: Handle) -> ExitStatus:
        while True:
            rec = self._record(handle)
            if rec is None:
                await trio.lowlevel.checkpoint()
                return ExitStatus(exit_code=None, lost=True, error="no such workload")
            if rec.status is not None:
                await trio.lowlevel.checkpoint()
                return rec.status
            with trio.move_on_at(min(rec.natural_end, rec.deadline_end)):
                await rec.changed.wait()

    async def cancel(self, handle: Handle) -> None:
        await trio.lowlevel.checkpoint()
        rec = self._record(handle)
        if rec is not None:
            rec.finish(ExitStatus(exit_code=None, cancelled=True), trio.current_time())

    async def logs(self, handle: Handle, *, follow: bool = False) -> AsyncIterator[LogLine]:
        rec = self._record(handle)
        if rec is None:
            return
        for emit in sorted(rec.behavior.output, key=lambda e: e.at_s):
            at = rec.started_at + emit.at_s
            while follow:
                now = trio.current_time()
                rec.settle(now)
                if rec.status is not None or now >= at:
                    break
                with trio.move_on_at(min(at, rec.natural_end, rec.deadline_end)):
                    await rec.changed.wait()
            rec.settle(trio.current_time())
            if trio.current_time() < at or (rec.ended_at is not None and rec.ended_at < at):
                return
            yield LogLine(stream=emit.stream, data=emit.data)

    async def remove(self, handle: Handle) -> None:
        await self.cancel(handle)
        self.backend.records.pop(handle.id, None)

    async def recover(self) -> list[Handle]:
        await trio.lowlevel.checkpoint()
        return [Handle(id=i, executor=self.name, ref=r.ref)
                for i, r in sorted(self.backend.records.items())]
