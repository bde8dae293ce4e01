"""MicroVMExecutor bookkeeping with a fake VMM: records, restart, deadline, cancel, errors.

The fake "VMM" is a shell process that prints the guest's exit marker to the console
file after a delay, so the state handling is tested without booting a kernel (the real
QEMU runs in tests/functional/executor/test_executor_microvm*.py).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import trio

from dms.errors import ExecutorError
from dms.executor.contract import GPURequest, Limits, WorkloadSpec
from dms.executor.microvm import Disk, LaunchPlan, MicroVMExecutor, MicroVMSettings
from dms.executor.microvm.state import Record, process_alive

pytestmark = pytest.mark.unit


class FakeVMM:
    """Reads fake_status / fake_delay / fake_nomarker from the kernel command line."""

    name = "fake"

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.plans: list[LaunchPlan] = []
        self.procs: list[trio.Process] = []

    def available(self) -> bool:
        return True

    def accel(self) -> str:
        return "tcg"

    def base_cmdline(self) -> str:
        return "console=ttyS0"

    def disk_names(self, disks: tuple[Disk, ...], has_initrd: bool) -> dict[str, str]:
        return {}

    async def launch(self, plan: LaunchPlan) -> trio.Process:
        if self.fail:
            raise ExecutorError("fake VMM refused", hint="none")
        self.plans.append(plan)
        args = dict(re.findall(r"(\w+)=(\S+)", plan.cmdline))
        marker = "" if args.get("fake_nomarker") else (
            f"echo 'DMS-EXIT {args['dms_nonce']} status={args.get('fake_status', '0')} "
            f"oom=0' >> {plan.console}")
        script = (f"echo booting >> {plan.console}; sleep {args.get('fake_delay', '0')}; "
                  f"{marker}")
        proc = await trio.lowlevel.open_process(["sh", "-c", script],
                                                stdin=subprocess.DEVNULL,
                                                start_new_session=True)
        self.procs.append(proc)
        return proc


@pytest.fixture
def settings(tmp_path: Path) -> MicroVMSettings:
    kernel, initrd = tmp_path / "vmlinuz", tmp_path / "initrd"
    kernel.write_bytes(b"k")
    initrd.write_bytes(b"i")
    return MicroVMSettings(state_dir=tmp_path / "state", kernel=kernel, initrd=initrd)


def _spec(wid: str, args: str = "", **kw: object) -> WorkloadSpec:
    return WorkloadSpec(id=wid, executor="microvm", cmd=("true",), kernel_args=args,
                        **kw)  # type: ignore[arg-type]


async def test_status_persists_and_a_new_instance_reads_it(settings: MicroVMSettings) -> None:
    ex = MicroVMExecutor(settings, backend=FakeVMM())
    h = await ex.start(_spec("a", "fake_status=3"))
    with trio.fail_after(10):
        status = await ex.wait(h)
    assert status.exit_code == 3 and status.error is None
    rec = json.loads((settings.state_dir / "a" / "record.json").read_text())
    assert rec["status"]["exit_code"] == 3 and rec["pid"] == int(h.ref)
    again = MicroVMExecutor(settings, backend=FakeVMM())
    assert await again.wait(h) == status
    assert [x.meta["state"] for x in await again.recover()] == ["finished"]
    lines = [ln.data async for ln in again.logs(h)]
    assert lines[0] == b"booting"


async def test_restart_mid_run_reattaches(settings: MicroVMSettings) -> None:
    ex = MicroVMExecutor(settings, backend=FakeVMM())
    h = await ex.start(_spec("r", "fake_delay=1"))
    fresh = MicroVMExecutor(settings, backend=FakeVMM())
    found = await fresh.recover()
    assert [(x.id, x.meta["state"]) for x in found] == [("r", "running")]
    with trio.fail_after(10):
        status = await fresh.wait(found[0])
    assert status.ok, status
    await ex.remove(h)


async def test_vm_that_ended_unseen_without_marker_is_lost(settings: MicroVMSettings) -> None:
    vmm = FakeVMM()
    ex = MicroVMExecutor(settings, backend=vmm)
    h = await ex.start(_spec("l", "fake_nomarker=1"))
    with trio.fail_after(10):
        await vmm.procs[0].wait()   # the VM ends while "dms" is not watching
    status = await MicroVMExecutor(settings, backend=FakeVMM()).wait(h)
    assert status.lost and status.exit_code is None and "no exit status" in (status.error or "")
    await ex.remove(h)


def _load(path: Path) -> Record:
    return Record.load(path.parent)


async def test_deadline_kills_and_reports_timed_out(settings: MicroVMSettings) -> None:
    ex = MicroVMExecutor(settings, backend=FakeVMM())
    h = await ex.start(_spec("d", "fake_delay=60", deadline_s=0.3))
    with trio.fail_after(10):
        status = await ex.wait(h)
    assert status.timed_out and not status.ok, status
    assert not process_alive(_load(settings.state_dir / "d" / "record.json"))


async def test_cancel_from_a_restarted_daemon_kills_the_vm(settings: MicroVMSettings) -> None:
    ex = MicroVMExecutor(settings, backend=FakeVMM())
    h = await ex.start(_spec("c", "fake_delay=60"))
    fresh = MicroVMExecutor(settings, backend=FakeVMM())
    await fresh.cancel(h)
    with trio.fail_after(10):
        assert (await ex.wait(h)).cancelled
    await fresh.remove(h)
    assert not (settings.state_dir / "c").exists()


async def test_launch_failure_leaves_a_record_with_the_error(settings: MicroVMSettings) -> None:
    ex = MicroVMExecutor(settings, backend=FakeVMM(fail=True))
    with pytest.raises(ExecutorError, match="fake VMM refused"):
        await ex.start(_spec("f"))
    [h] = await ex.recover()
    status = await ex.wait(h)
    assert status.exit_code is None and "failed to start" in (status.error or "")


async def test_specs_it_cannot_run_are_refused(settings: MicroVMSettings) -> None:
    ex = MicroVMExecutor(settings, backend=FakeVMM())
    with pytest.raises(ExecutorError, match="get no network"):
        await ex.start(_spec("n", network=True))
    with pytest.raises(ExecutorError, match="networking off"):
        await ex.start(_spec("p", ports=((8080, 80),)))
    with pytest.raises(ExecutorError, match="GPUs"):
        await ex.start(_spec("g", limits=Limits(gpus=(GPURequest("nvidia"),))))
    with pytest.raises(ExecutorError, match="below"):
        await ex.start(_spec("m", limits=Limits(memory_bytes=16 << 20)))
    with pytest.raises(ExecutorError, match="cannot name a directory"):
        await ex.start(_spec("a/b"))
    with pytest.raises(ExecutorError, match="does not exist") as err:
        await ex.start(_spec("k", kernel=settings.state_dir / "nope"))
    assert err.value.hint
    h = await ex.start(_spec("dup"))
    with pytest.raises(ExecutorError, match="already exists"):
        await ex.start(_spec("dup"))
    await ex.remove(h)


async def test_limits_become_vm_size(settings: MicroVMSettings) -> None:
    vmm = FakeVMM()
    ex = MicroVMExecutor(settings, backend=vmm)
    h = await ex.start(_spec("s", limits=Limits(cpus=1.5, memory_bytes=(100 << 20) + 1)))
    plan = vmm.plans[0]
    assert plan.memory_mib == 101
    assert plan.vcpus == min(2, os.cpu_count() or 1)
    assert [d.role for d in plan.disks] == ["results"]
    assert plan.initrd is not None and plan.initrd.read_bytes().startswith(b"i\x1f\x8b")
    await ex.remove(h)


async def test_stats_while_running_and_after(settings: MicroVMSettings) -> None:
    from dms.executor.contract import SupportsStats

    ex = MicroVMExecutor(settings, backend=FakeVMM())
    assert isinstance(ex, SupportsStats)
    h = await ex.start(_spec("st", "fake_delay=30", limits=Limits(memory_bytes=128 << 20)))
    running = await ex.stats(h)
    assert running["running"] and running["memory_mib"] == 128
    assert running["vmm_rss_bytes"] > 0 and running["vmm_cpu_s"] >= 0
    await ex.cancel(h)
    await ex.wait(h)
    assert (await ex.stats(h))["running"] is False
    await ex.remove(h)
