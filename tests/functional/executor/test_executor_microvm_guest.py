"""What only a real guest shows: limits inside the VM, the inputs disk, env, crashes.

Real QEMU (TCG here) booting the Debian cloud kernel with the dms guest; two boots.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trio

from dms.executor.contract import Limits, WorkloadSpec
from dms.executor.microvm import MicroVMExecutor, MicroVMSettings
from dms.testing.guest import build_guest

pytestmark = [pytest.mark.functional, pytest.mark.qemu, pytest.mark.slow]

PROBE = r"""
echo "cpus=$(grep -c ^processor /proc/cpuinfo)"
echo "memkb=$(awk '/^MemTotal/{print $2}' /proc/meminfo)"
echo "input=$(cat /inputs/data.txt)"
if echo x > /inputs/new.txt 2>/dev/null; then echo inputs=writable; else echo inputs=ro; fi
echo "greeting=$GREETING"
echo "pwd=$(pwd)"
mkdir -p /results/sub && cp /inputs/data.txt /results/sub/copy.txt
"""


@pytest.fixture
async def executor(tmp_path: Path) -> AsyncIterator[MicroVMExecutor]:
    guest = build_guest()
    ex = MicroVMExecutor(MicroVMSettings(state_dir=tmp_path / "state", backend="qemu",
                                         kernel=guest.kernel, initrd=guest.initrd))
    yield ex
    for handle in await ex.recover():   # a failed test must not leave a VM running
        await ex.remove(handle)


async def test_limits_inputs_env_and_results_inside_the_guest(tmp_path: Path,
                                                              executor: MicroVMExecutor) -> None:
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    (inputs / "data.txt").write_text("from the host\n")
    spec = WorkloadSpec(id="probe", executor="microvm", cmd=("sh", "-c", PROBE),
                        env={"GREETING": "hi there"}, working_dir="/tmp",
                        limits=Limits(cpus=2, memory_bytes=160 << 20),
                        inputs_dir=inputs, results_dir=tmp_path / "results")
    handle = await executor.start(spec)
    with trio.fail_after(60):
        status = await executor.wait(handle)
    console = b"\n".join([ln.data async for ln in executor.logs(handle)]).decode()
    assert status.ok, f"{status}\n{console}"
    assert "cpus=2" in console, console
    memkb = int(console.split("memkb=")[1].split()[0])
    assert 100_000 < memkb <= 160 * 1024, memkb   # MemTotal is RAM minus the kernel's share
    assert "input=from the host" in console and "inputs=ro" in console
    assert "greeting=hi there" in console and "pwd=/tmp" in console
    assert (tmp_path / "results" / "sub" / "copy.txt").read_text() == "from the host\n"
    await executor.remove(handle)


async def test_kernel_panic_is_a_failure_not_a_success(executor: MicroVMExecutor) -> None:
    spec = WorkloadSpec(id="panic", executor="microvm",
                        cmd=("sh", "-c", "echo c > /proc/sysrq-trigger"))
    handle = await executor.start(spec)
    with trio.fail_after(60):
        status = await executor.wait(handle)
    assert not status.ok and status.exit_code is None, status
    assert "no exit status" in (status.error or ""), status
    await executor.remove(handle)


def _busybox_rootfs(tmp_path: Path) -> Path:
    """An ext4 root filesystem image holding busybox-static, built without root."""
    import shutil
    import subprocess

    root = tmp_path / "rootfs"
    for d in ("bin", "etc", "proc", "sys", "dev", "results", "inputs", "tmp"):
        (root / d).mkdir(parents=True)
    shutil.copy("/bin/busybox", root / "bin" / "busybox")
    for applet in ("sh", "cat", "echo", "touch", "mount"):
        (root / "bin" / applet).symlink_to("busybox")
    (root / "etc" / "os-release").write_text("NAME=dms-test-rootfs\n")
    image = tmp_path / "rootfs.ext4"
    subprocess.run(["mkfs.ext4", "-q", "-d", str(root), str(image), "16M"], check=True,
                   capture_output=True)
    return image


async def test_rootfs_disk_is_the_workload_root(tmp_path: Path,
                                                executor: MicroVMExecutor) -> None:
    script = ("cat /etc/os-release; "
              "if touch /probe 2>/dev/null; then echo root=rw; else echo root=ro; fi; "
              "echo from-rootfs > /results/r.txt")
    spec = WorkloadSpec(id="rootfs", executor="microvm", rootfs=_busybox_rootfs(tmp_path),
                        cmd=("sh", "-c", script), results_dir=tmp_path / "results")
    handle = await executor.start(spec)
    with trio.fail_after(60):
        status = await executor.wait(handle)
    console = b"\n".join([ln.data async for ln in executor.logs(handle)]).decode()
    assert status.ok, f"{status}\n{console}"
    assert "NAME=dms-test-rootfs" in console and "root=ro" in console, console
    assert (tmp_path / "results" / "r.txt").read_text() == "from-rootfs\n"
    await executor.remove(handle)


async def test_network_only_when_asked_and_ports_are_published(
        executor: MicroVMExecutor) -> None:
    # serve in a loop: slirp accepts a host connection before the guest listens and may
    # hand a connection the client already gave up on to the guest's first nc
    serve = "ls -1 /sys/class/net; while :; do echo served-by-guest | nc -l -p 8080; done"
    handle = await executor.start(WorkloadSpec(id="net", executor="microvm", network=True,
                                               ports=((0, 8080),), cmd=("sh", "-c", serve)))
    try:
        host_port = handle.meta["ports"][8080]
        got = b""
        with trio.fail_after(90):
            while b"served" not in got:
                try:
                    stream = await trio.open_tcp_stream("127.0.0.1", host_port)
                    async with stream:
                        with trio.move_on_after(5):
                            got = await stream.receive_some(100)
                except OSError:
                    pass
                if b"served" not in got:
                    await trio.sleep(0.2)
        assert got == b"served-by-guest\n", got
        lines = [ln.data async for ln in executor.logs(handle)]
        assert b"eth0" in lines, lines
        await executor.cancel(handle)
        with trio.fail_after(60):
            assert (await executor.wait(handle)).cancelled
    finally:
        await executor.remove(handle)
    quiet = await executor.start(WorkloadSpec(id="nonet", executor="microvm",
                                              cmd=("ls", "-1", "/sys/class/net")))
    try:
        with trio.fail_after(60):
            assert (await executor.wait(quiet)).ok
        names = [ln.data for ln in [x async for x in executor.logs(quiet)]]
        assert b"lo" in names and b"eth0" not in names, names
    finally:
        await executor.remove(quiet)
