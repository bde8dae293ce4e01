"""Where discovery reads from: a root directory, a command runner, an NVML module.

Every probe takes a :class:`Probe` so tests replay recorded hosts: ``Probe(root=
"tests/data/hardware/amd", run=replay({...}))`` reads ``<root>/proc/cpuinfo``,
``<root>/sys/...`` and answers commands from a table instead of running them.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Runner = Callable[[Sequence[str]], str | None]
"""Runs a command, returns its stdout, or ``None`` when the tool is absent or failed."""


def run_command(argv: Sequence[str], timeout: float = 10.0) -> str | None:
    if shutil.which(argv[0]) is None:
        return None
    try:
        done = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout,
                              check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def replay(answers: Mapping[str, str]) -> Runner:
    """A runner answering ``" ".join(argv)`` from ``answers`` (absent -> tool missing)."""
    def run(argv: Sequence[str]) -> str | None:
        return answers.get(" ".join(argv))
    return run


def _load_nvml() -> Any | None:
    try:
        import pynvml  # from nvidia-ml-py
    except ImportError:
        return None
    return pynvml


def _stat_dev(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return os.major(st.st_dev), os.minor(st.st_dev)


def _disk_usage(path: str) -> tuple[int, int]:
    u = shutil.disk_usage(path)
    return u.total, u.free


@dataclass
class Probe:
    root: Path = Path("/")
    run: Runner = run_command
    nvml: Callable[[], Any | None] = _load_nvml
    machine: Callable[[], str] = platform.machine
    disk_usage: Callable[[str], tuple[int, int]] = _disk_usage  # (total, free) bytes
    stat_dev: Callable[[str], tuple[int, int] | None] = _stat_dev  # (major, minor)
    notes: list[str] = field(default_factory=list)

    def path(self, rel: str) -> Path:
        return self.root / rel.lstrip("/")

    def read(self, rel: str) -> str | None:
        try:
            return self.path(rel).read_text(errors="replace").strip()
        except OSError:
            return None

    def read_int(self, rel: str, base: int = 10) -> int | None:
        text = self.read(rel)
        if text is None:
            return None
        try:
            return int(text.split()[0], base)
        except (ValueError, IndexError):
            return None

    def note(self, text: str) -> None:
        self.notes.append(text)

    @property
    def is_live(self) -> bool:
        return self.root == Path("/")


@contextmanager
def nvml_session(p: Probe, *, quiet: bool = True) -> Iterator[Any | None]:
    """pynvml, initialised, or None when the library or the driver is missing (with a
    note unless ``quiet``); NVML is shut down again on exit."""
    nv = p.nvml()
    if nv is None:
        if not quiet:
            p.note("pynvml not importable: NVIDIA GPUs not probed")
        yield None
        return
    try:
        nv.nvmlInit()
    except Exception as exc:  # NVMLError_LibraryNotFound / DriverNotLoaded / ...
        if not quiet:
            p.note(f"NVML unavailable ({exc}): no NVIDIA GPUs")
        yield None
        return
    try:
        yield nv
    finally:
        try:
            nv.nvmlShutdown()
        except Exception:
            pass
