"""Docker: labels, recovery, exit classification, log frames, fingerprint (no daemon)."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import pytest

from dms.executor.contract import LogLine
from dms.executor.docker.driver import _unix_time
from dms.executor.docker.fingerprint import fingerprint, gpu_vendors, ping_unix
from dms.executor.docker.handle import LineSplitter, read_frame
from dms.executor.docker.state import classify_exit, handle_from_summary, recover_filters

pytestmark = pytest.mark.unit


def test_handle_from_summary_reads_labels_back() -> None:
    h = handle_from_summary({"Id": "abc123", "Names": ["/dms-w1"],
                             "Labels": {"dms.managed": "true", "dms.workload": "w1",
                                        "dms.deadline": "17.5", "dms.results": "/r"}})
    assert h is not None
    assert (h.id, h.executor, h.ref) == ("w1", "docker", "abc123")
    assert h.meta == {"container": "dms-w1", "deadline_at": 17.5, "results_dir": "/r"}
    assert handle_from_summary({"Id": "x", "Labels": {"other": "1"}}) is None


def test_recover_filters_scope_to_owner() -> None:
    assert recover_filters(None) == {"label": ["dms.managed=true", "dms.executor=docker"]}
    assert recover_filters("n1")["label"][-1] == "dms.owner=n1"


def test_classify_exit() -> None:
    assert classify_exit({"ExitCode": 0}).ok
    oom = classify_exit({"ExitCode": 137, "OOMKilled": True})
    assert oom.oom_killed and oom.error and "memory" in oom.error and not oom.timed_out
    assert classify_exit({"ExitCode": 137}, timed_out=True).timed_out
    cancelled = classify_exit({"ExitCode": 143}, cancelled=True)
    assert cancelled.cancelled and cancelled.exit_code == 143
    # after a restart: killed at or after its deadline -> timed out
    late = classify_exit({"ExitCode": 137}, deadline_at=100.0, finished_at=100.2)
    assert late.timed_out
    assert not classify_exit({"ExitCode": 137}, deadline_at=100.0, finished_at=50.0).timed_out


def test_unix_time_handles_nanoseconds_and_zero() -> None:
    assert _unix_time("1970-01-01T00:00:01.123456789Z") == pytest.approx(1.123456)
    assert _unix_time("0001-01-01T00:00:00Z") is None
    assert _unix_time(None) is None


def frame(kind: int, data: bytes) -> bytes:
    return struct.pack(">BxxxL", kind, len(data)) + data


def test_frames_then_lines_per_stream() -> None:
    raw = io.BytesIO(frame(1, b"hel") + frame(2, b"err\n") + frame(1, b"lo\nwor")
                     + frame(0, b"stdin?") + frame(1, b"ld"))
    splitter = LineSplitter()
    lines: list[LogLine] = []
    while (f := read_frame(raw.read)) is not None:
        lines += splitter.feed(*f)
    lines += splitter.flush()
    assert lines == [LogLine("stderr", b"err"), LogLine("stdout", b"hello"),
                     LogLine("stdout", b"world")]


def test_truncated_frame_ends_the_stream() -> None:
    assert read_frame(io.BytesIO(b"\x01\x00\x00").read) is None
    assert read_frame(io.BytesIO(struct.pack(">BxxxL", 1, 5)).read) is None


def test_gpu_vendors_from_a_fake_root(tmp_path: Path) -> None:
    assert gpu_vendors(tmp_path) == []
    (tmp_path / "dev" / "dri").mkdir(parents=True)
    (tmp_path / "dev" / "kfd").touch()
    (tmp_path / "dev" / "nvidiactl").touch()
    (tmp_path / "dev" / "nvidia0").touch()
    card = tmp_path / "sys" / "class" / "drm" / "card0" / "device"
    card.mkdir(parents=True)
    (card / "vendor").write_text("0x8086\n")
    assert gpu_vendors(tmp_path, runtimes={"runc": {}}) == ["amd", "intel", "nvidia"]


def test_fingerprint_from_info() -> None:
    caps = fingerprint({"CgroupVersion": "2", "ServerVersion": "20.10", "NCPU": 2,
                        "Runtimes": {"runc": {}, "nvidia": {}}}, ["nvidia"])
    assert caps["cgroup_version"] == 2 and caps["gpus"] == ["nvidia"]
    assert caps["runtimes"] == ["nvidia", "runc"] and caps["limits"]["disk"] is False


def test_ping_unix_on_a_missing_socket(tmp_path: Path) -> None:
    assert ping_unix(f"unix://{tmp_path}/none.sock", 0.5) is False


def test_engine_errors_become_executor_errors() -> None:
    import docker.errors
    import requests

    from dms.errors import ExecutorError
    from dms.executor.docker import DockerExecutor, DockerSettings

    ex = DockerExecutor(DockerSettings(base_url="unix:///nowhere.sock"))
    with pytest.raises(ExecutorError, match="refused: boom"), ex._translated():
        raise docker.errors.APIError("500 Server Error", explanation="boom")
    with pytest.raises(ExecutorError) as info, ex._translated():
        raise requests.exceptions.ConnectionError("reset")
    assert info.value.code == "executor_unavailable"
    with pytest.raises(docker.errors.NotFound), ex._translated():
        raise docker.errors.NotFound("gone")
