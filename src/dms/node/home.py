"""The node's home directory: its lock and its runtime file.

    $DMS_HOME/
      config.json     settings (dms config set ...)
      keys/           encrypted keystore
      cap/            capability contexts
      dms.db          document store
      dms.lock        held (flock) by the running daemon
      runtime.json    pid and API port of the running daemon, for the CLI
      work/           workloads' files
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from pathlib import Path
from typing import Any

from dms.errors import LockError

LOCK_FILE = "dms.lock"
RUNTIME_FILE = "runtime.json"


class HomeLock:
    """An exclusive advisory lock on a home: two daemons never share one.

    The kernel drops a flock when its process dies, so a crashed daemon never leaves a
    stale lock behind.
    """

    def __init__(self, home: Path) -> None:
        self.home = home
        self.path = home / LOCK_FILE
        self._fd: int | None = None

    def acquire(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            other = os.pread(fd, 64, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise LockError(
                f"another dms daemon (pid {other}) is already running with home {self.home}",
                hint="stop it first (`kill " + other + "`), or start this one with another "
                     "--home") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> HomeLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def write_runtime(home: Path, **info: Any) -> None:
    info.setdefault("pid", os.getpid())
    info.setdefault("started", time.time())
    tmp = home / (RUNTIME_FILE + ".tmp")
    tmp.write_text(json.dumps(info))
    os.replace(tmp, home / RUNTIME_FILE)


def read_runtime(home: Path) -> dict[str, Any] | None:
    """The running daemon's runtime info, or None when no live daemon wrote one."""
    try:
        info = json.loads((home / RUNTIME_FILE).read_text())
    except (OSError, ValueError):
        return None
    pid = info.get("pid")
    if not isinstance(pid, int):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return dict(info)


def clear_runtime(home: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        (home / RUNTIME_FILE).unlink()


def resolve_in_home(home: Path, path: str) -> Path:
    p = Path(path).expanduser()
    return p if p.is_absolute() else home / p
