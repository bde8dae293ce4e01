"""The executor contract suite against the microVM executor on real QEMU (TCG here).

Each case boots the Debian cloud kernel with the dms busybox guest (~2-4 s under TCG).
"""

from __future__ import annotations

import os
import signal
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest

from dms.executor.contract import Handle, Limits, WorkloadSpec
from dms.executor.microvm import MicroVMExecutor, MicroVMSettings
from dms.executor.microvm.state import load_all, process_alive
from dms.testing import executor_contract as contract
from dms.testing.guest import Guest, build_guest

pytestmark = [pytest.mark.functional, pytest.mark.qemu, pytest.mark.slow]



COMMANDS: dict[str, tuple[str, ...]] = {
    "hello": ("sh", "-c", "echo hello"),
    "exit3": ("sh", "-c", "exit 3"),
    "oom": ("sh", "-c", "x=aaaaaaaaaaaaaaaa; while :; do x=$x$x$x$x; done"),
    "sleep": ("sleep", "3600"),
    "results": ("sh", "-c", "echo result > /results/out.txt"),
    "stream": ("sh", "-c", "echo 'tick 1'; echo 'tick 2'; exec sleep 3600"),
    "nap": ("sleep", "2"),
}


@pytest.fixture(scope="session")
def guest() -> Guest:
    return build_guest()


@pytest.fixture
def microvm_settings(tmp_path: Path, guest: Guest) -> MicroVMSettings:
    return MicroVMSettings(state_dir=tmp_path / "microvm", backend="qemu",
                           kernel=guest.kernel, initrd=guest.initrd)


def kill_leftover_vms(state_dir: Path) -> None:
    """A failed test must not leave a VM running: kill what its records still name."""
    for rec in load_all(state_dir):
        if process_alive(rec):
            os.killpg(rec.pid, signal.SIGKILL)


@pytest.fixture
def executor(microvm_settings: MicroVMSettings) -> Iterator[MicroVMExecutor]:
    yield MicroVMExecutor(microvm_settings)
    kill_leftover_vms(microvm_settings.state_dir)


@pytest.fixture
def restarted_executor(microvm_settings: MicroVMSettings) -> Callable[[], MicroVMExecutor]:
    return lambda: MicroVMExecutor(microvm_settings)


@pytest.fixture
def make_workload() -> Callable[..., WorkloadSpec]:
    def make(kind: str, *, results_dir: Path | None = None,
             deadline_s: float | None = None) -> WorkloadSpec:
        limits = Limits(memory_bytes=96 << 20) if kind == "oom" else Limits()
        return WorkloadSpec(id=f"vm-{kind}-{uuid.uuid4().hex[:8]}", executor="microvm",
                            cmd=COMMANDS[kind], limits=limits, results_dir=results_dir,
                            deadline_s=deadline_s)
    return make


@pytest.fixture
def recover_mode() -> str:
    return "reattach"


@pytest.fixture
def leftovers(microvm_settings: MicroVMSettings) -> Callable[[Handle], list[str]]:
    def find(handle: Handle) -> list[str]:
        wd = str(microvm_settings.state_dir / handle.id)
        found = [wd] if Path(wd).exists() else []
        for p in psutil.process_iter(["pid", "cmdline", "status"]):
            if p.info["status"] != psutil.STATUS_ZOMBIE and any(
                    wd in a for a in p.info["cmdline"] or ()):
                found.append(f"pid {p.info['pid']}")
        return found
    return find


class TestMicroVMContract(contract.ExecutorContract):
    pass
