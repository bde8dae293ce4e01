"""Docker: the spec -> Engine API translation, as data (no daemon)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dms.errors import ExecutorError
from dms.executor.contract import GPURequest, Limits, WorkloadSpec
from dms.executor.docker import DockerSettings, create_args
from dms.executor.docker.config import container_name, gpu_args

pytestmark = pytest.mark.unit

SETTINGS = DockerSettings(base_url="unix:///x.sock")


def spec(**kw: object) -> WorkloadSpec:
    base: dict[str, object] = {"id": "w1", "executor": "docker", "image": "busybox:1",
                               "cmd": ("echo", "hi")}
    base.update(kw)
    return WorkloadSpec(**base)  # type: ignore[arg-type]


def test_defaults_are_closed_down() -> None:
    args = create_args(spec(), SETTINGS)
    assert args.host["network_mode"] == "none"
    assert args.host["read_only"] is True
    assert args.host["tmpfs"] == {"/tmp": "rw,nosuid,nodev,size=64m"}
    assert args.host["security_opt"] == ["no-new-privileges"]
    assert args.host["init"] is True
    for key in ("nano_cpus", "mem_limit", "memswap_limit", "pids_limit", "port_bindings",
                "device_requests", "devices"):
        assert key not in args.host
    c = args.container
    assert c["image"] == "busybox:1" and c["command"] == ["echo", "hi"]
    assert c["name"] == "dms-w1" and c["detach"] is True and c["tty"] is False
    assert "entrypoint" not in c and "ports" not in c


def test_limits_map_to_cgroup_settings() -> None:
    args = create_args(spec(limits=Limits(cpus=1.5, memory_bytes=256 << 20, pids=100,
                                          disk_bytes=10 << 20)), SETTINGS)
    assert args.host["nano_cpus"] == 1_500_000_000
    assert args.host["mem_limit"] == 256 << 20
    assert args.host["memswap_limit"] == 256 << 20     # no swap on top
    assert args.host["pids_limit"] == 100
    assert args.host["tmpfs"]["/tmp"].endswith(f"size={10 << 20}")


def test_network_and_ports() -> None:
    args = create_args(spec(network=True, ports=((8080, 80), (0, 53))), SETTINGS)
    assert args.host["network_mode"] == "bridge"
    assert args.host["port_bindings"] == {"80/tcp": 8080, "53/tcp": None}
    assert args.container["ports"] == [(80, "tcp"), (53, "tcp")]


def test_ports_without_network_are_refused() -> None:
    with pytest.raises(ExecutorError, match="networking off") as info:
        create_args(spec(ports=((8080, 80),)), SETTINGS)
    assert "network: true" in info.value.hint


def test_writable_root_has_no_tmpfs() -> None:
    args = create_args(spec(read_only_root=False), SETTINGS)
    assert args.host["read_only"] is False and "tmpfs" not in args.host


def test_mounts_results_rw_and_inputs_ro(tmp_path: Path) -> None:
    args = create_args(spec(results_dir=tmp_path / "r", inputs_dir=tmp_path / "i"), SETTINGS)
    assert args.host["binds"] == {str(tmp_path / "r"): {"bind": "/results", "mode": "rw"},
                                  str(tmp_path / "i"): {"bind": "/inputs", "mode": "ro"}}


def test_entrypoint_env_workdir_and_labels() -> None:
    args = create_args(spec(entrypoint=("/bin/sh", "-c"), env={"A": "1"}, working_dir="/w",
                            labels={"team": "x", "dms.workload": "spoofed"},
                            results_dir=Path("/r")),
                       SETTINGS.model_copy(update={"owner": "node-a"}), deadline_at=123.5)
    c = args.container
    assert c["entrypoint"] == ["/bin/sh", "-c"]
    assert c["environment"] == {"A": "1"} and c["working_dir"] == "/w"
    assert c["labels"] == {"team": "x", "dms.managed": "true", "dms.executor": "docker",
                           "dms.workload": "w1", "dms.deadline": "123.5",
                           "dms.owner": "node-a", "dms.results": "/r"}


def test_missing_image_is_refused() -> None:
    with pytest.raises(ExecutorError, match="no image"):
        create_args(spec(image=None), SETTINGS)


@pytest.mark.parametrize(("wid", "name"), [("abc", "dms-abc"), ("a b/c", "dms-a-b-c")])
def test_container_names_are_valid(wid: str, name: str) -> None:
    assert container_name("dms-", wid) == name
    assert container_name("", "_x") == "w_x"


def test_nvidia_gpus_use_device_requests() -> None:
    out = gpu_args((GPURequest("nvidia", 0), GPURequest("nvidia", 2), GPURequest("nvidia")))
    assert out == {"device_requests": [
        {"Driver": "nvidia", "Count": 0, "DeviceIDs": ["0", "2"], "Capabilities": [["gpu"]],
         "Options": {}},
        {"Driver": "nvidia", "Count": 1, "DeviceIDs": [], "Capabilities": [["gpu"]],
         "Options": {}}]}


def test_amd_gpus_use_kfd_and_dri_with_groups() -> None:
    out = gpu_args((GPURequest("amd", 1),), {"video": 44, "render": 105})
    assert out == {"devices": ["/dev/kfd:/dev/kfd:rwm", "/dev/dri/card1:/dev/dri/card1:rwm",
                               "/dev/dri/renderD129:/dev/dri/renderD129:rwm"],
                   "group_add": ["44", "105"]}


def test_intel_gpu_any_uses_all_of_dri() -> None:
    assert gpu_args((GPURequest("intel"),)) == {"devices": ["/dev/dri:/dev/dri:rwm"]}


def test_gpus_flow_into_create_args() -> None:
    args = create_args(spec(limits=Limits(gpus=(GPURequest("intel", 0),))), SETTINGS)
    assert args.host["devices"] == ["/dev/dri/card0:/dev/dri/card0:rwm",
                                    "/dev/dri/renderD128:/dev/dri/renderD128:rwm"]


def test_settings_default_from_docker_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "tcp://10.0.0.1:2375")
    assert DockerSettings().base_url == "tcp://10.0.0.1:2375"
    monkeypatch.delenv("DOCKER_HOST")
    assert DockerSettings().base_url == "unix:///var/run/docker.sock"
    with pytest.raises(ValueError):
        DockerSettings(bogus=1)  # type: ignore[call-arg]


def test_public_surfaces_are_pinned() -> None:
    import dms.executor.docker
    import dms.executor.noop

    assert sorted(dms.executor.docker.__all__) == ["DockerExecutor", "DockerSettings", "build",
                                                    "create_args"]
    assert sorted(dms.executor.noop.__all__) == ["Emit", "NoopBackend", "NoopBehavior",
                                                  "NoopExecutor", "build"]


def test_testing_helpers_build_the_dockerd_command_line() -> None:
    from dms.testing.dockerd import BRIDGE, DockerdPaths, dockerd_argv

    paths = DockerdPaths(Path("/d"), Path("/r"))
    argv = dockerd_argv(paths, "/usr/sbin/dockerd")
    assert argv[0] == "/usr/sbin/dockerd" and paths.url == "unix:///r/docker.sock"
    flags = dict(zip(argv[1::2], argv[2::2], strict=True))
    assert flags == {"--data-root": "/d", "--exec-root": "/r/exec", "--pidfile": "/r/dockerd.pid",
                     "-H": "unix:///r/docker.sock", "--bridge": BRIDGE,
                     "--default-address-pool": "base=172.31.240.0/20,size=24"}


def test_busybox_rootfs_has_applets_as_symlinks() -> None:
    import io
    import shutil
    import tarfile

    from dms.testing.images import busybox_rootfs_tar

    busybox = shutil.which("busybox")
    if busybox is None:
        pytest.fail("busybox is not installed: run scripts/setup (Debian busybox-static)")
    with tarfile.open(fileobj=io.BytesIO(busybox_rootfs_tar(busybox))) as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert members["bin/busybox"].isfile() and members["bin/busybox"].mode == 0o755
    assert members["bin/sh"].issym() and members["bin/sh"].linkname == "busybox"
    assert members["tmp"].isdir() and members["results"].isdir()
