"""The executor contract suite against a real Docker Engine."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import docker
import pytest

from dms.executor.contract import Handle, Limits, WorkloadSpec
from dms.executor.docker import DockerExecutor
from dms.testing import executor_contract as contract

pytestmark = [pytest.mark.functional, pytest.mark.docker, pytest.mark.slow]



COMMANDS: dict[str, tuple[str, ...]] = {
    "hello": ("sh", "-c", "echo hello; echo oops >&2"),
    "exit3": ("sh", "-c", "exit 3"),
    "oom": ("sh", "-c", "tail /dev/zero"),
    "sleep": ("sleep", "3600"),
    "results": ("sh", "-c", "echo result > /results/out.txt"),
    "stream": ("sh", "-c", "echo 'tick 1'; echo 'tick 2'; exec sleep 3600"),
    "nap": ("sleep", "2"),
}


@pytest.fixture
def executor(docker_executors: Callable[[], DockerExecutor]) -> DockerExecutor:
    return docker_executors()


@pytest.fixture
def restarted_executor(docker_executors: Callable[[], DockerExecutor]
                       ) -> Callable[[], DockerExecutor]:
    return docker_executors


@pytest.fixture
def make_workload(busybox_image: str, workload_id: Callable[[str], str]
                  ) -> Callable[..., WorkloadSpec]:
    def make(kind: str, *, results_dir: Path | None = None,
             deadline_s: float | None = None) -> WorkloadSpec:
        limits = Limits(memory_bytes=32 << 20) if kind == "oom" else Limits()
        return WorkloadSpec(id=workload_id(kind), executor="docker", image=busybox_image,
                            cmd=COMMANDS[kind], limits=limits, results_dir=results_dir,
                            deadline_s=deadline_s)
    return make


@pytest.fixture
def recover_mode() -> str:
    return "reattach"


@pytest.fixture
def leftovers(docker_api: docker.APIClient) -> Callable[[Handle], list[str]]:
    def find(handle: Handle) -> list[str]:
        found = docker_api.containers(all=True,
                                      filters={"label": [f"dms.workload={handle.id}"]})
        return [c["Names"][0] for c in found]
    return find


class TestDockerContract(contract.ExecutorContract):
    pass
