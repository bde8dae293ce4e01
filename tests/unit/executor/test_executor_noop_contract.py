"""The executor contract suite against the noop executor."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from dms.executor.contract import Handle, Limits, WorkloadSpec
from dms.executor.noop import Emit, NoopBackend, NoopBehavior, NoopExecutor
from dms.testing import executor_contract as contract

pytestmark = pytest.mark.unit



BEHAVIORS: dict[str, NoopBehavior] = {
    "hello": NoopBehavior.printing("hello"),
    "exit3": NoopBehavior(exit_code=3),
    "oom": NoopBehavior(memory_bytes=64 << 20, delay_s=0.05),
    "sleep": NoopBehavior(delay_s=3600),
    "results": NoopBehavior(results={"out.txt": b"result\n"}),
    "stream": NoopBehavior(delay_s=3600, output=(Emit(b"tick 1"), Emit(b"tick 2", at_s=0.1))),
    "nap": NoopBehavior(delay_s=0.5),
}


def _behavior(spec: WorkloadSpec) -> NoopBehavior:
    return BEHAVIORS[spec.labels["contract.kind"]]


@pytest.fixture
def backend() -> NoopBackend:
    return NoopBackend()


@pytest.fixture
def executor(backend: NoopBackend) -> NoopExecutor:
    return NoopExecutor(_behavior, backend=backend)


@pytest.fixture
def restarted_executor(backend: NoopBackend) -> Callable[[], NoopExecutor]:
    return lambda: NoopExecutor(_behavior, backend=backend)


@pytest.fixture
def make_workload() -> Callable[..., WorkloadSpec]:
    def make(kind: str, *, results_dir: Path | None = None,
             deadline_s: float | None = None) -> WorkloadSpec:
        assert kind in contract.KINDS, kind
        limits = Limits(memory_bytes=16 << 20) if kind == "oom" else Limits()
        return WorkloadSpec(id=f"noop-{kind}-{uuid.uuid4().hex[:8]}", executor="noop",
                            limits=limits, results_dir=results_dir, deadline_s=deadline_s,
                            labels={"contract.kind": kind})
    return make


@pytest.fixture
def recover_mode() -> str:
    return "reattach"


@pytest.fixture
def leftovers(backend: NoopBackend) -> Callable[[Handle], list[str]]:
    return lambda handle: [i for i in backend.ids() if i == handle.id]


class TestNoopContract(contract.ExecutorContract):
    pass
