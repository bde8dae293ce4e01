"""The executor contract.

An executor runs one workload at a time per :class:`Handle`: a container, a microVM or
a WebAssembly module. The core Protocol is small (start, wait, cancel, logs, remove);
``recover`` re-attaches after a daemon restart; ``stats`` and ``exec`` are optional
extras as separate Protocols. ``is_installed`` / ``capabilities`` let a node advertise
only what really works on this machine.

    WorkloadSpec ──start──▶ Handle ──wait──▶ ExitStatus
                              │  ├──logs(follow)──▶ LogLine...
                              │  ├──cancel
                              │  └──remove  (forget the workload, free its files)
                  recover()──▶ [Handle...]   (workloads that survived a daemon restart)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable


@dataclass(frozen=True)
class Limits:
    """Resource limits for one workload. ``None`` means "executor default"."""

    cpus: float | None = None            # e.g. 0.5 = half a core
    memory_bytes: int | None = None
    pids: int | None = None
    disk_bytes: int | None = None
    gpus: tuple[GPURequest, ...] = ()


@dataclass(frozen=True)
class GPURequest:
    vendor: Literal["nvidia", "amd", "intel"]
    index: int | None = None            # host device index; None = any


@dataclass(frozen=True)
class WorkloadSpec:
    """What to run. Fields unused by an executor are ignored by it.

    docker:   image, cmd, entrypoint, env, working_dir
    microvm:  kernel, rootfs or initrd, kernel_args (guest runs ``cmd`` when the init supports it)
    wasm:     module (path to .wasm/.wat), cmd (argv after the module name), env
    """

    id: str                               # unique per workload (the allocation id)
    executor: str                         # "docker" | "microvm" | "wasm" | "noop"
    image: str | None = None
    cmd: tuple[str, ...] = ()
    entrypoint: tuple[str, ...] | None = None
    env: dict[str, str] = field(default_factory=dict)
    working_dir: str | None = None
    kernel: Path | None = None
    rootfs: Path | None = None
    initrd: Path | None = None
    kernel_args: str = ""
    module: Path | None = None
    limits: Limits = Limits()
    network: bool = False                 # off unless asked
    read_only_root: bool = True           # read-only root filesystem unless asked
    inputs_dir: Path | None = None        # host dir exposed read-only at /inputs
    results_dir: Path | None = None       # host dir where files written to /results end up
    deadline_s: float | None = None       # wall-clock limit; exceeded -> killed, timed_out
    ports: tuple[tuple[int, int], ...] = ()  # (host port, workload port) when network is on
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Handle:
    """Names a started workload; ``ref`` is the executor's own id (container id, pid...)."""

    id: str
    executor: str
    ref: str
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ExitStatus:
    exit_code: int | None                 # None when it never produced one (lost, killed)
    oom_killed: bool = False
    timed_out: bool = False
    cancelled: bool = False
    lost: bool = False                    # the executor can no longer find it (e.g. after restart)
    error: str | None = None              # why it failed to run, in words

    @property
    def ok(self) -> bool:
        return (self.exit_code == 0 and not (self.oom_killed or self.timed_out
                                             or self.cancelled or self.lost))


@dataclass(frozen=True)
class LogLine:
    """One line of output, without its newline."""

    stream: Literal["stdout", "stderr", "console"]
    data: bytes


@runtime_checkable
class Executor(Protocol):
    name: str

    def is_installed(self) -> bool:
        """True when this executor can really run workloads here (binary, daemon, kernel)."""

    def capabilities(self) -> dict[str, Any]:
        """What it supports here, advertised to peers (e.g. {"gpus": ["nvidia"], "kvm": False})."""

    async def start(self, spec: WorkloadSpec) -> Handle: ...

    async def wait(self, handle: Handle) -> ExitStatus: ...

    async def cancel(self, handle: Handle) -> None: ...

    def logs(self, handle: Handle, *, follow: bool = False) -> AsyncIterator[LogLine]: ...

    async def remove(self, handle: Handle) -> None: ...

    async def recover(self) -> list[Handle]:
        """Handles of this executor's workloads that survived a daemon restart."""


@runtime_checkable
class SupportsStats(Protocol):
    async def stats(self, handle: Handle) -> dict[str, Any]: ...


@runtime_checkable
class SupportsExec(Protocol):
    async def exec(self, handle: Handle, cmd: list[str]) -> tuple[int, bytes]: ...
