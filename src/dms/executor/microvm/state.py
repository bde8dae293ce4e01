"""What survives a daemon restart: one directory per workload under the state dir.

    <state_dir>/<workload id>/
        record.json     the Record below (written atomically, before and after launch)
        console.log     the guest serial console
        vmm.log         the VMM's own stdout/stderr
        initrd.img      guest initramfs + job archive
        results.img     the results disk (ext4)
        inputs.img      the inputs disk (ext4, read-only), when inputs_dir is set

A record is written before the VMM is spawned (pid 0) and updated with the pid right
after, so a crash in between leaves a record that ``recover()`` reports as lost rather
than an orphan without one.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psutil

RECORD = "record.json"


@dataclass
class Record:
    id: str
    backend: str                 # "qemu" | "firecracker"
    accel: str                   # "kvm" | "tcg"
    workdir: str
    nonce: str
    pid: int = 0
    pid_create_time: float = 0.0
    started_at: float = 0.0
    deadline_at: float | None = None
    results_dir: str | None = None
    cancelled: bool = False
    status: dict[str, Any] | None = None     # the final ExitStatus, once known
    meta: dict[str, Any] = field(default_factory=dict)

    def save(self) -> None:
        path = Path(self.workdir) / RECORD
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=1, sort_keys=True))
        os.replace(tmp, path)

    @classmethod
    def load(cls, workdir: Path) -> Record:
        data = json.loads((workdir / RECORD).read_text())
        return cls(**data)


def load_all(state_dir: Path) -> list[Record]:
    out: list[Record] = []
    if not state_dir.is_dir():
        return out
    for d in sorted(state_dir.iterdir()):
        if (d / RECORD).is_file():
            try:
                out.append(Record.load(d))
            except (ValueError, TypeError, OSError):
                continue
    return out


def process_alive(rec: Record) -> bool:
    """True when ``rec.pid`` is still our VMM: same start time, workdir on its command line.

    A zombie counts as gone (it has exited; only its parent has not reaped it yet).
    """
    if rec.pid <= 0:
        return False
    try:
        p = psutil.Process(rec.pid)
        if p.status() == psutil.STATUS_ZOMBIE:
            return False
        if rec.pid_create_time and abs(p.create_time() - rec.pid_create_time) > 1.0:
            return False
        cmdline = p.cmdline()
        if not cmdline:   # briefly empty while the child execs: the start time decides
            return bool(rec.pid_create_time)
        return any(rec.workdir in arg for arg in cmdline)
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False


def create_time(pid: int) -> float:
    try:
        return psutil.Process(pid).create_time()
    except psutil.Error:
        return 0.0
