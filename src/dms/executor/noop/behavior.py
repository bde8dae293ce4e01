"""What a noop workload does: pure data, chosen per workload spec."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from dms.executor.contract import ExitStatus, WorkloadSpec

Stream = Literal["stdout", "stderr", "console"]


@dataclass(frozen=True)
class Emit:
    """One output line, ``at_s`` seconds after start (dropped if the workload ended first)."""

    data: bytes
    stream: Stream = "stdout"
    at_s: float = 0.0


@dataclass(frozen=True)
class NoopBehavior:
    """Injectable behavior of one noop workload.

    ``delay_s`` is how long it "runs"; then it exits with ``exit_code`` (or is OOM-killed
    when ``oom`` is set or ``memory_bytes`` exceeds the spec's memory limit), and
    ``results`` are written into the spec's results dir. ``fail_on_start`` makes
    ``start()`` raise an :class:`~dms.errors.ExecutorError` with that message.
    """

    exit_code: int = 0
    delay_s: float = 0.0
    output: tuple[Emit, ...] = ()
    results: dict[str, bytes] = field(default_factory=dict)
    fail_on_start: str | None = None
    oom: bool = False
    memory_bytes: int | None = None

    @classmethod
    def printing(cls, *lines: str, exit_code: int = 0, delay_s: float = 0.0) -> NoopBehavior:
        return cls(exit_code=exit_code, delay_s=delay_s,
                   output=tuple(Emit(line.encode()) for line in lines))

    def natural_exit(self, spec: WorkloadSpec) -> ExitStatus:
        """The status it reaches when nothing stops it first."""
        limit = spec.limits.memory_bytes
        over = (self.memory_bytes is not None and limit is not None
                and self.memory_bytes > limit)
        if self.oom or over:
            return ExitStatus(exit_code=137, oom_killed=True)
        return ExitStatus(exit_code=self.exit_code)


BehaviorSource = NoopBehavior | Callable[[WorkloadSpec], NoopBehavior]


def behavior_for(source: BehaviorSource, spec: WorkloadSpec) -> NoopBehavior:
    return source if isinstance(source, NoopBehavior) else source(spec)
