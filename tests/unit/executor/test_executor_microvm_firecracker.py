"""The Firecracker backend's API exchange, against a fake Firecracker on a unix socket.

No Firecracker binary can be installed here, so tests/data/firecracker/fake_firecracker.py
stands in for it: it records every request and "boots" on InstanceStart. The expected
exchanges are recorded in tests/data/firecracker/*.json (paths and the per-boot nonce
as placeholders) and every body is checked against the request schemas copied from
Firecracker's published API (src/firecracker/swagger/firecracker.yaml).
"""

from __future__ import annotations

import json
import os
import re
import stat
import sys
from pathlib import Path
from typing import Any

import pytest
import trio

from dms.errors import ExecutorError
from dms.executor.contract import Limits, WorkloadSpec
from dms.executor.microvm import FirecrackerBackend, MicroVMExecutor, MicroVMSettings
from dms.executor.microvm.firecracker import http_request

pytestmark = pytest.mark.unit

DATA = Path(__file__).resolve().parents[2] / "data" / "firecracker"


@pytest.fixture
def fake_fc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """(path of a fake `firecracker` executable, file its requests are recorded in)."""
    record = tmp_path / "requests.jsonl"
    binary = tmp_path / "bin" / "firecracker"
    binary.parent.mkdir()
    binary.write_text(f"#!/bin/sh\nexec {sys.executable} {DATA / 'fake_firecracker.py'} \"$@\"\n")
    binary.chmod(binary.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("FAKE_FC_RECORD", str(record))
    return binary, record


@pytest.fixture
def guest_files(tmp_path: Path) -> tuple[Path, Path]:
    kernel, initrd = tmp_path / "vmlinux", tmp_path / "base-initrd.img"
    kernel.write_bytes(b"\x7fELF fake kernel")
    initrd.write_bytes(b"fake initramfs")
    return kernel, initrd


def _executor(tmp_path: Path, binary: Path, kernel: Path, initrd: Path) -> MicroVMExecutor:
    return MicroVMExecutor(MicroVMSettings(state_dir=tmp_path / "state", backend="firecracker",
                                           firecracker_binary=str(binary),
                                           kernel=kernel, initrd=initrd))


def _recorded(record: Path, subst: dict[str, str]) -> list[dict[str, Any]]:
    text = record.read_text()
    for value, token in sorted(subst.items(), key=lambda kv: -len(kv[0])):
        text = text.replace(value, token)
    return [json.loads(line) for line in text.splitlines()]


def _compare_with_recording(exchange: list[dict[str, Any]], name: str) -> None:
    """Compare with the recorded exchange; DMS_RECORD_FIRECRACKER=1 re-records it."""
    path = DATA / name
    if os.environ.get("DMS_RECORD_FIRECRACKER") == "1":
        path.write_text(json.dumps(exchange, indent=1) + "\n")
    assert exchange == json.loads(path.read_text()), f"exchange differs from {name}"


def _check_schema(exchange: list[dict[str, Any]]) -> None:
    schema = json.loads((DATA / "api_schema.json").read_text())
    for req in exchange:
        key = re.sub(r"^/drives/[^/]+$", "/drives/{drive_id}", req["path"])
        assert key in schema, f"{key} is not a Firecracker API path"
        s = schema[key]
        body = req["body"]
        missing = [f for f in s["required"] if f not in body]
        unknown = [f for f in body if f not in s["properties"]]
        assert not missing and not unknown, (key, missing, unknown)
        for f, v in body.items():
            want = s["properties"][f]
            assert {"string": str, "boolean": bool, "integer": int}[want["type"]] is type(v), (
                key, f, v)
            if "enum" in want:
                assert v in want["enum"], (key, f, v)


async def test_boot_exchange_matches_recording(tmp_path: Path, fake_fc: tuple[Path, Path],
                                               guest_files: tuple[Path, Path]) -> None:
    binary, record = fake_fc
    kernel, initrd = guest_files
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    (inputs / "a.txt").write_text("in")
    ex = _executor(tmp_path, binary, kernel, initrd)
    assert ex.is_installed()
    assert ex.capabilities()["backend"] == "firecracker"
    spec = WorkloadSpec(id="fc1", executor="microvm", cmd=("echo", "hello"),
                        limits=Limits(cpus=1, memory_bytes=128 << 20),
                        inputs_dir=inputs, results_dir=tmp_path / "results")
    handle = await ex.start(spec)
    with trio.fail_after(10):
        status = await ex.wait(handle)
    assert status.exit_code == 0 and status.ok, status
    out = b"\n".join([ln.data async for ln in ex.logs(handle)])
    assert b"hello from firecracker" in out
    rec = json.loads((tmp_path / "state" / "fc1" / "record.json").read_text())
    got = _recorded(record, {str(tmp_path / "state" / "fc1"): "{workdir}",
                             str(kernel): "{kernel}", rec["nonce"]: "{nonce}"})
    assert all(r["content_type"] == "application/json" for r in got)
    exchange = [{k: r[k] for k in ("method", "path", "body")} for r in got]
    _compare_with_recording(exchange, "boot_initrd.json")
    _check_schema(exchange)


async def test_rootfs_without_initrd_is_the_root_device(tmp_path: Path,
                                                        fake_fc: tuple[Path, Path],
                                                        guest_files: tuple[Path, Path]) -> None:
    binary, record = fake_fc
    kernel, _ = guest_files
    rootfs = tmp_path / "rootfs.ext4"
    rootfs.write_bytes(b"\0" * 4096)
    ex = _executor(tmp_path, binary, kernel, guest_files[1])
    spec = WorkloadSpec(id="fc2", executor="microvm", kernel=kernel, rootfs=rootfs,
                        kernel_args="init=/sbin/init", read_only_root=False)
    handle = await ex.start(spec)
    with trio.fail_after(10):
        status = await ex.wait(handle)
    assert status.ok, status
    rec = json.loads((tmp_path / "state" / "fc2" / "record.json").read_text())
    got = _recorded(record, {str(tmp_path / "state" / "fc2"): "{workdir}",
                             str(rootfs): "{rootfs}", str(kernel): "{kernel}",
                             rec["nonce"]: "{nonce}"})
    exchange = [{k: r[k] for k in ("method", "path", "body")} for r in got]
    _compare_with_recording(exchange, "boot_rootfs.json")
    _check_schema(exchange)


async def test_status_comes_from_the_console_marker_only(
        tmp_path: Path, fake_fc: tuple[Path, Path], guest_files: tuple[Path, Path],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_FC_STATUS", "5")
    ex = _executor(tmp_path, fake_fc[0], *guest_files)
    handle = await ex.start(WorkloadSpec(id="fc3", executor="microvm", cmd=("false",)))
    with trio.fail_after(10):
        status = await ex.wait(handle)
    assert status.exit_code == 5 and not status.ok and status.error is None, status


async def test_cancel_kills_firecracker(tmp_path: Path, fake_fc: tuple[Path, Path],
                                        guest_files: tuple[Path, Path],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_FC_HANG", "1")
    ex = _executor(tmp_path, fake_fc[0], *guest_files)
    handle = await ex.start(WorkloadSpec(id="fc4", executor="microvm", cmd=("sleep", "9")))
    await ex.cancel(handle)
    with trio.fail_after(10):
        status = await ex.wait(handle)
    assert status.cancelled and not status.ok, status
    await ex.remove(handle)
    assert not (tmp_path / "state" / "fc4").exists()


async def test_refused_request_is_an_executor_error(tmp_path: Path) -> None:
    """A 4xx answer carries Firecracker's fault_message into the error."""
    sock = tmp_path / "api.sock"
    listener = trio.socket.socket(trio.socket.AF_UNIX, trio.socket.SOCK_STREAM)
    await listener.bind(str(sock))
    listener.listen(1)

    async def serve_once() -> None:
        conn, _ = await listener.accept()
        with conn:
            await conn.recv(65536)
            body = b'{"fault_message": "Invalid kernel path"}'
            await conn.send(b"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n"
                            b"Content-Length: %d\r\n\r\n%s" % (len(body), body))

    async with trio.open_nursery() as n:
        n.start_soon(serve_once)
        status, body = await http_request(sock, "PUT", "/boot-source",
                                          {"kernel_image_path": "/nope"})
    listener.close()
    assert status == 400 and b"Invalid kernel path" in body


def test_backend_without_binary_is_not_available() -> None:
    assert not FirecrackerBackend(binary="/nonexistent/firecracker").available()
    assert FirecrackerBackend().accel() == "kvm"


async def test_firecracker_that_dies_before_its_api_is_reported(
        tmp_path: Path, guest_files: tuple[Path, Path]) -> None:
    binary = tmp_path / "firecracker"
    binary.write_text("#!/bin/sh\necho 'cannot open /dev/kvm' >&2\nexit 1\n")
    binary.chmod(0o755)
    ex = _executor(tmp_path, binary, *guest_files)
    with pytest.raises(ExecutorError, match="before opening its API") as err:
        await ex.start(WorkloadSpec(id="dead", executor="microvm", cmd=("true",)))
    assert "vmm.log" in err.value.hint
    assert "cannot open /dev/kvm" in (tmp_path / "state" / "dead" / "vmm.log").read_text()
    [h] = await ex.recover()
    assert "failed to start" in ((await ex.wait(h)).error or "")


async def test_network_is_refused_for_firecracker(tmp_path: Path, fake_fc: tuple[Path, Path],
                                                  guest_files: tuple[Path, Path]) -> None:
    ex = _executor(tmp_path, fake_fc[0], *guest_files)
    assert ex.capabilities()["network"] is False
    with pytest.raises(ExecutorError, match="tap device") as err:
        await ex.start(WorkloadSpec(id="net", executor="microvm", network=True))
    assert "qemu" in err.value.hint
    assert not fake_fc[1].exists()   # nothing was sent to Firecracker
