"""Small host-side I/O helpers of the microVM executor."""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import trio

from dms.errors import ExecutorError
from dms.executor.contract import WorkloadSpec
from dms.executor.microvm.state import Record, process_alive


async def wait_foreign(rec: Record) -> None:
    """Wait for a VMM this process did not spawn (started by an earlier daemon)."""
    if not process_alive(rec):
        return
    try:
        fd = os.pidfd_open(rec.pid)
    except ProcessLookupError:
        return
    try:
        if process_alive(rec):   # still ours after opening: no pid reuse in between
            await trio.lowlevel.wait_readable(fd)
    finally:
        os.close(fd)


def free_port() -> int:
    """A TCP port free right now, for a ``(0, guest port)`` request (as docker's -p 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("", 0))
        return int(s.getsockname()[1])


def check_paths(spec: WorkloadSpec) -> None:
    for what, p in (("kernel", spec.kernel), ("initrd", spec.initrd), ("rootfs", spec.rootfs)):
        if p is not None and not Path(p).exists():
            raise ExecutorError(f"{what} {p} does not exist", hint=f"fix spec.{what}")


def write_initrd(out_path: Path, base: Path, job: bytes) -> None:
    with open(out_path, "wb") as out, open(base, "rb") as src:
        shutil.copyfileobj(src, out)
        out.write(job)
