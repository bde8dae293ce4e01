"""Docker specifics on a real Engine: limits in cgroups, isolation, mounts, images."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import docker
import pytest
import trio

from dms.errors import ExecutorError
from dms.executor.contract import ExitStatus, Handle, Limits, LogLine, WorkloadSpec
from dms.executor.docker import DockerExecutor, DockerSettings

pytestmark = [pytest.mark.functional, pytest.mark.docker]

Make = Callable[..., WorkloadSpec]


@pytest.fixture
def ex(docker_executors: Callable[[], DockerExecutor]) -> DockerExecutor:
    return docker_executors()


@pytest.fixture
def make(busybox_image: str, workload_id: Callable[[str], str]) -> Make:
    def build(script: str, **kw: object) -> WorkloadSpec:
        return WorkloadSpec(id=workload_id("d"), executor="docker", image=busybox_image,
                            cmd=("sh", "-c", script), **kw)  # type: ignore[arg-type]
    return build


async def run(ex: DockerExecutor, spec: WorkloadSpec
              ) -> tuple[Handle, ExitStatus, list[LogLine]]:
    handle = await ex.start(spec)
    try:
        with trio.fail_after(60):
            status = await ex.wait(handle)
            lines = [line async for line in ex.logs(handle)]
        return handle, status, lines
    finally:
        await ex.remove(handle)


def out(lines: list[LogLine], stream: str = "stdout") -> list[str]:
    return [ln.data.decode() for ln in lines if ln.stream == stream]


CGROUP_PROBE = """
if [ -f /sys/fs/cgroup/cpu.max ]; then
  echo v2; cat /sys/fs/cgroup/cpu.max /sys/fs/cgroup/memory.max /sys/fs/cgroup/memory.swap.max \
    /sys/fs/cgroup/pids.max
else
  echo v1; cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us \
    /sys/fs/cgroup/memory/memory.limit_in_bytes \
    /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes 2>/dev/null \
    || cat /sys/fs/cgroup/memory/memory.limit_in_bytes
  cat /sys/fs/cgroup/pids/pids.max
fi
"""


async def test_cpu_memory_pids_limits_are_in_the_cgroup(ex: DockerExecutor, make: Make) -> None:
    mem = 96 << 20
    spec = make(CGROUP_PROBE, limits=Limits(cpus=0.5, memory_bytes=mem, pids=42))
    _, status, lines = await run(ex, spec)
    assert status.ok, (status, lines)
    got = out(lines)
    if got[0] == "v2":
        assert got[1] == "50000 100000"                # quota period: half a core
        assert got[2] == str(mem)
        assert got[3] == "0"                           # no swap on top
        assert got[4] == "42"
    else:
        assert got[0] == "v1", got
        assert (int(got[1]), int(got[2])) == (50000, 100000)
        assert got[3] == str(mem)
        assert got[-1] == "42"
        if len(got) == 6:                              # memsw accounting present
            assert got[4] == str(mem)
    assert ex.capabilities()["cgroup_version"] == int(got[0][1])


async def test_pids_limit_stops_a_fork_bomb(ex: DockerExecutor, make: Make) -> None:
    spec = make("for i in $(seq 40); do sleep 5 & done; wait", limits=Limits(pids=10))
    _, status, lines = await run(ex, spec)
    assert status.exit_code is not None
    assert any("fork" in line or "resource" in line.lower() for line in out(lines, "stderr")), lines


async def test_oom_kill_is_reported_as_such(ex: DockerExecutor, make: Make) -> None:
    _, status, _ = await run(ex, make("tail /dev/zero", limits=Limits(memory_bytes=24 << 20)))
    assert status.oom_killed and status.exit_code == 137 and not status.ok, status


async def test_network_is_off_unless_asked(ex: DockerExecutor, make: Make) -> None:
    _, _, off = await run(ex, make("ls /sys/class/net"))
    _, _, on = await run(ex, make("ls /sys/class/net", network=True))
    assert out(off) == ["lo"]
    assert "eth0" in out(on)


async def test_published_port_answers_from_the_host(ex: DockerExecutor, make: Make) -> None:
    script = ("mkdir -p /tmp/www && echo dms-port-ok > /tmp/www/index.html && "
              "exec httpd -f -p 8080 -h /tmp/www")
    handle = await ex.start(make(script, network=True, ports=((0, 8080),)))
    try:
        port = handle.meta["ports"][8080]
        body = b""
        with trio.fail_after(30):
            while b"dms-port-ok" not in body:
                body = await trio.to_thread.run_sync(_http_get, port)
                if b"dms-port-ok" not in body:
                    await trio.sleep(0.2)
    finally:
        await ex.remove(handle)


def _http_get(port: int) -> bytes:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"GET /index.html HTTP/1.0\r\n\r\n")
            data = b""
            while chunk := s.recv(4096):
                data += chunk
            return data
    except OSError:
        return b""


async def test_root_is_read_only_unless_asked(ex: DockerExecutor, make: Make) -> None:
    script = "touch /tmp/ok && echo tmp-ok; touch /rootfile && echo root-ok; true"
    _, _, ro = await run(ex, make(script))
    _, _, rw = await run(ex, make(script, read_only_root=False))
    assert out(ro) == ["tmp-ok"]
    assert any("Read-only file system" in line for line in out(ro, "stderr")), ro
    assert out(rw) == ["tmp-ok", "root-ok"]


async def test_inputs_are_mounted_read_only(ex: DockerExecutor, make: Make,
                                            tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "data.txt").write_text("payload\n")
    _, status, lines = await run(ex, make("cat /inputs/data.txt; touch /inputs/x || exit 9",
                                          inputs_dir=inputs))
    assert status.exit_code == 9 and out(lines) == ["payload"]
    assert not (inputs / "x").exists()


async def test_stdout_and_stderr_stay_apart(ex: DockerExecutor, make: Make) -> None:
    _, _, lines = await run(ex, make("echo a; echo b >&2; printf 'no-newline'"))
    assert out(lines) == ["a", "no-newline"] and out(lines, "stderr") == ["b"]


async def test_missing_image_says_neither_local_nor_pullable(
        ex: DockerExecutor, workload_id: Callable[[str], str]) -> None:
    spec = WorkloadSpec(id=workload_id("img"), executor="docker",
                        image="dms-test/not-here:1", cmd=("true",))
    with pytest.raises(ExecutorError) as info:
        await ex.start(spec)
    assert info.value.code == "image_missing"
    assert "neither" in info.value.message and "docker load" in info.value.hint
    assert spec.id not in {h.id for h in await ex.recover()}


async def test_missing_image_with_pull_off(docker_settings: DockerSettings,
                                           workload_id: Callable[[str], str]) -> None:
    ex = DockerExecutor(docker_settings.model_copy(update={"pull": False}))
    try:
        with pytest.raises(ExecutorError, match="pulling is off"):
            await ex.start(WorkloadSpec(id=workload_id("img"), executor="docker",
                                        image="dms-test/not-here:1", cmd=("true",)))
    finally:
        ex.close()


async def test_deadline_survives_a_restart(docker_executors: Callable[[], DockerExecutor],
                                           make: Make) -> None:
    first = docker_executors()
    spec = make("exec sleep 3600", deadline_s=1.0)
    handle = await first.start(spec)
    fresh = docker_executors()
    try:
        (found,) = [h for h in await fresh.recover() if h.id == spec.id]
        assert found.meta["deadline_at"] == handle.meta["deadline_at"]
        with trio.fail_after(60):
            status = await fresh.wait(found)
        assert status.timed_out and not status.ok, status
    finally:
        await fresh.remove(handle)


async def test_recover_is_scoped_to_its_owner(docker_settings: DockerSettings,
                                              ex: DockerExecutor, make: Make) -> None:
    handle = await ex.start(make("exec sleep 3600"))
    stranger = DockerExecutor(docker_settings.model_copy(update={"owner": "someone-else"}))
    try:
        assert handle.id not in {h.id for h in await stranger.recover()}
        assert handle.id in {h.id for h in await ex.recover()}
    finally:
        stranger.close()
        await ex.remove(handle)


async def test_duplicate_workload_id_is_a_conflict(ex: DockerExecutor, make: Make) -> None:
    spec = make("exec sleep 3600")
    handle = await ex.start(spec)
    try:
        with pytest.raises(ExecutorError) as info:
            await ex.start(spec)
        assert info.value.code == "executor_conflict"
    finally:
        await ex.remove(handle)


async def test_cancel_after_exit_keeps_the_exit_code(ex: DockerExecutor, make: Make) -> None:
    handle = await ex.start(make("exit 5"))
    try:
        with trio.fail_after(60):
            first = await ex.wait(handle)
        await ex.cancel(handle)
        assert first.exit_code == 5 and await ex.wait(handle) == first
    finally:
        await ex.remove(handle)


async def test_exec_and_stats_extras(ex: DockerExecutor, make: Make) -> None:
    handle = await ex.start(make("exec sleep 3600", limits=Limits(memory_bytes=64 << 20)))
    try:
        code, output = await ex.exec(handle, ["sh", "-c", "echo in-container; exit 4"])
        assert (code, output) == (4, b"in-container\n")
        stats = await ex.stats(handle)
        assert stats["memory_stats"]["limit"] == 64 << 20
    finally:
        await ex.remove(handle)


async def test_unreachable_daemon_is_reported(tmp_path: Path, busybox_image: str) -> None:
    ex = DockerExecutor(DockerSettings(base_url=f"unix://{tmp_path}/no.sock"))
    assert not ex.is_installed()
    with pytest.raises(ExecutorError) as info:
        await ex.start(WorkloadSpec(id="x", executor="docker", image=busybox_image))
    assert info.value.code == "executor_unavailable" and "DOCKER_HOST" in info.value.hint


async def test_capabilities_describe_this_daemon(ex: DockerExecutor,
                                                 docker_api: docker.APIClient) -> None:
    caps = ex.capabilities()
    assert caps["server_version"] == docker_api.version()["Version"]
    assert caps["cgroup_version"] in (1, 2)
    assert isinstance(caps["gpus"], list) and "runc" in caps["runtimes"]


async def test_a_blocked_follow_and_wait_can_be_cancelled(ex: DockerExecutor, make: Make) -> None:
    handle = await ex.start(make("echo first; exec sleep 3600"))
    try:
        got: list[LogLine] = []
        with trio.move_on_after(1.5) as follow_scope:
            async for line in ex.logs(handle, follow=True):
                got.append(line)
        assert follow_scope.cancelled_caught and out(got) == ["first"]
        with trio.move_on_after(0.5) as wait_scope:
            await ex.wait(handle)
        assert wait_scope.cancelled_caught
        await ex.cancel(handle)
        with trio.fail_after(60):
            assert (await ex.wait(handle)).cancelled
    finally:
        await ex.remove(handle)


async def test_a_command_missing_from_the_image_fails_start_cleanly(
        docker_settings: DockerSettings, busybox_image: str,
        workload_id: Callable[[str], str], docker_api: docker.APIClient) -> None:
    ex = DockerExecutor(docker_settings.model_copy(update={"init": False}))
    spec = WorkloadSpec(id=workload_id("cmd"), executor="docker", image=busybox_image,
                        cmd=("/no/such/binary",))
    try:
        with pytest.raises(ExecutorError, match="could not start") as info:
            await ex.start(spec)
    finally:
        ex.close()
    assert "image" in info.value.hint and "/no/such/binary" in info.value.message
    assert docker_api.containers(all=True, filters={"label": [f"dms.workload={spec.id}"]}) == []


async def test_with_init_a_missing_command_exits_127_and_says_why(
        ex: DockerExecutor, busybox_image: str, workload_id: Callable[[str], str]) -> None:
    spec = WorkloadSpec(id=workload_id("cmd"), executor="docker", image=busybox_image,
                        cmd=("/no/such/binary",))
    _, status, lines = await run(ex, spec)
    assert status.exit_code == 127 and not status.ok, status
    assert any("/no/such/binary" in line for line in out(lines, "stderr")), lines


async def test_missing_inputs_dir_is_refused(ex: DockerExecutor, make: Make,
                                             tmp_path: Path) -> None:
    with pytest.raises(ExecutorError, match="does not exist"):
        await ex.start(make("true", inputs_dir=tmp_path / "absent"))
