"""Firecracker backend: configure and boot a microVM through Firecracker's HTTP API.

The API (``src/firecracker/swagger/firecracker.yaml`` in Firecracker's repository) is
HTTP/1.1 with JSON bodies on a unix socket; every pre-boot PUT answers ``204``. The
sequence sent here (also recorded in ``tests/data/firecracker/*.json``):

    PUT /logger            {"log_path", "level"}
    PUT /boot-source       {"kernel_image_path", "boot_args", "initrd_path"?}
    PUT /drives/{id}       {"drive_id", "path_on_host", "is_root_device", "is_read_only"}
    PUT /machine-config    {"vcpu_count", "mem_size_mib", "smt": false}
    PUT /actions           {"action_type": "InstanceStart"}

Firecracker has no debug-exit device: the guest's status comes from the console marker
only; ``reboot=k`` makes the guest's final reboot (i8042 reset) end the Firecracker
process. Firecracker needs an uncompressed ``vmlinux`` kernel and KVM.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import trio

from dms.errors import ExecutorError
from dms.executor.microvm.backend import Disk, LaunchPlan
from dms.executor.microvm.qemu import open_append

BASE_CMDLINE = "console=ttyS0 reboot=k panic=1 pci=off quiet"
_HINT = "check the Firecracker binary, the kernel (an uncompressed vmlinux) and /dev/kvm"


@dataclass(frozen=True)
class ApiCall:
    method: str
    path: str
    body: dict[str, Any]


def ordered_disks(disks: tuple[Disk, ...], has_initrd: bool) -> list[tuple[Disk, bool]]:
    """(disk, is_root_device) in the order the guest will see them (vda, vdb, ...).

    Firecracker attaches the root device first; without an initrd a ``root`` disk is the
    guest's real root filesystem.
    """
    root = [(d, True) for d in disks if d.role == "root" and not has_initrd]
    rest = [(d, False) for d in disks if not (d.role == "root" and not has_initrd)]
    return root + rest


def api_calls(plan: LaunchPlan, log_path: Path) -> list[ApiCall]:
    """The exact request sequence that configures and starts ``plan`` (pure)."""
    boot: dict[str, Any] = {"kernel_image_path": str(plan.kernel), "boot_args": plan.cmdline}
    if plan.initrd:
        boot["initrd_path"] = str(plan.initrd)
    calls = [ApiCall("PUT", "/logger", {"log_path": str(log_path), "level": "Info"}),
             ApiCall("PUT", "/boot-source", boot)]
    for d, is_root in ordered_disks(plan.disks, plan.initrd is not None):
        calls.append(ApiCall("PUT", f"/drives/{d.role}", {
            "drive_id": d.role, "path_on_host": str(d.path),
            "is_root_device": is_root, "is_read_only": d.read_only}))
    calls.append(ApiCall("PUT", "/machine-config", {
        "vcpu_count": plan.vcpus, "mem_size_mib": plan.memory_mib, "smt": False}))
    calls.append(ApiCall("PUT", "/actions", {"action_type": "InstanceStart"}))
    return calls


async def http_request(sock: Path, method: str, path: str, body: dict[str, Any] | None
                       ) -> tuple[int, bytes]:
    """One HTTP/1.1 request over a unix socket; returns (status, body)."""
    payload = json.dumps(body).encode() if body is not None else b""
    head = (f"{method} {path} HTTP/1.1\r\nHost: localhost\r\nAccept: application/json\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n")
    stream = await trio.open_unix_socket(str(sock))
    async with stream:
        await stream.send_all(head.encode() + payload)
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = await stream.receive_some(65536)
            if not chunk:
                raise ExecutorError(f"Firecracker closed the API socket during {method} {path}",
                                    hint=_HINT)
            buf += chunk
        header, _, rest = buf.partition(b"\r\n\r\n")
        lines = header.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        length = 0
        for line in lines[1:]:
            k, _, v = line.partition(":")
            if k.strip().lower() == "content-length":
                length = int(v.strip())
        while len(rest) < length:
            chunk = await stream.receive_some(65536)
            if not chunk:
                break
            rest += chunk
        return status, rest[:length]


async def _wait_for_api(sock: Path, proc: trio.Process, vmm_log: Path) -> None:
    """Until the API socket accepts connections (it exists before it listens)."""
    while True:
        if proc.poll() is not None:
            raise ExecutorError(f"firecracker exited with {proc.returncode} before opening "
                                "its API", hint=f"see {vmm_log}; " + _HINT)
        try:
            stream = await trio.open_unix_socket(str(sock))
        except (FileNotFoundError, ConnectionRefusedError):
            await trio.sleep(0.01)
            continue
        await stream.aclose()
        return


class FirecrackerBackend:
    name = "firecracker"

    def __init__(self, *, binary: str = "firecracker", socket_timeout_s: float = 5.0) -> None:
        self.binary = binary
        self._socket_timeout_s = socket_timeout_s

    def available(self) -> bool:
        return shutil.which(self.binary) is not None

    def accel(self) -> str:
        return "kvm"   # Firecracker only runs on KVM

    def base_cmdline(self) -> str:
        return BASE_CMDLINE

    def disk_names(self, disks: tuple[Disk, ...], has_initrd: bool) -> dict[str, str]:
        # Firecracker's virtio-blk serial is not the drive id: name disks by order.
        return {d.role: f"vd{chr(ord('a') + i)}"
                for i, (d, _) in enumerate(ordered_disks(disks, has_initrd))}

    async def launch(self, plan: LaunchPlan) -> trio.Process:
        sock = plan.workdir / "firecracker.sock"
        log_path = plan.workdir / "firecracker.log"
        sock.unlink(missing_ok=True)
        log_path.touch()
        argv = [self.binary, "--api-sock", str(sock)]
        with open_append(plan.console) as console, open_append(plan.vmm_log) as vmm:
            proc = await trio.lowlevel.open_process(
                argv, stdin=subprocess.DEVNULL, stdout=console, stderr=vmm,
                start_new_session=True)
        try:
            with trio.fail_after(self._socket_timeout_s):
                await _wait_for_api(sock, proc, plan.vmm_log)
            for call in api_calls(plan, log_path):
                status, body = await http_request(sock, call.method, call.path, call.body)
                if status >= 300:
                    fault = body.decode(errors="replace")
                    raise ExecutorError(
                        f"Firecracker refused {call.method} {call.path}: {status} {fault}",
                        hint=_HINT)
        except trio.TooSlowError as exc:
            await _reap(proc)
            raise ExecutorError("Firecracker's API socket did not appear", hint=_HINT) from exc
        except BaseException:
            await _reap(proc)
            raise
        return proc


async def _reap(proc: trio.Process) -> None:
    proc.kill()
    with trio.CancelScope(shield=True):
        await proc.wait()
