"""Executors: run one workload in a container, a microVM or a WebAssembly sandbox.

The contract lives in :mod:`dms.executor.contract`; implementations live in
sub-packages (``docker``, ``microvm``, ``wasm``, ``noop``) and are wired by name through
:class:`ExecutorRegistry` (see :func:`default_executors`). Importing this package
imports no implementation: each is imported when it is built.
"""

from dms.executor.contract import (
    Executor,
    ExitStatus,
    GPURequest,
    Handle,
    Limits,
    LogLine,
    SupportsExec,
    SupportsStats,
    WorkloadSpec,
)
from dms.executor.registry import (
    DEFAULT_ENABLED,
    ExecutorRegistry,
    default_executors,
)

__all__ = [
    "DEFAULT_ENABLED",
    "Executor",
    "ExecutorRegistry",
    "ExitStatus",
    "GPURequest",
    "Handle",
    "Limits",
    "LogLine",
    "SupportsExec",
    "SupportsStats",
    "WorkloadSpec",
    "default_executors",
]
