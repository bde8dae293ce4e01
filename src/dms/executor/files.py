"""File helpers the executors share (workloads' output is followed from files)."""

from __future__ import annotations

from pathlib import Path


def read_from(path: Path, offset: int = 0) -> bytes:
    """The bytes of ``path`` from ``offset`` (empty when it does not exist yet)."""
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            return f.read()
    except FileNotFoundError:
        return b""
