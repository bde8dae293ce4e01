"""Reading a container's log stream: Engine frames -> lines per stream (pure parts).

The Engine multiplexes stdout and stderr on one connection (no TTY): each frame is an
8-byte header ``[stream, 0, 0, 0, size (big-endian u32)]`` and ``size`` bytes. Frames
do not respect lines, so :class:`LineSplitter` keeps a partial line per stream.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Literal

from dms.executor.contract import LogLine

_STREAMS: dict[int, Literal["stdout", "stderr"]] = {1: "stdout", 2: "stderr"}
HEADER = struct.Struct(">BxxxL")


def _read_exact(read: Callable[[int], bytes], n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = read(n - len(buf))
        if not chunk:
            return buf
        buf += chunk
    return buf


def read_frame(read: Callable[[int], bytes]) -> tuple[Literal["stdout", "stderr"], bytes] | None:
    """The next frame from a blocking ``read(n)``; None at the end of the stream."""
    while True:
        header = _read_exact(read, HEADER.size)
        if len(header) < HEADER.size:
            return None
        kind, size = HEADER.unpack(header)
        data = _read_exact(read, size)
        if size and not data:
            return None
        if kind in _STREAMS and data:
            return _STREAMS[kind], data


class LineSplitter:
    """Turns chunks per stream into whole lines (without the newline)."""

    def __init__(self) -> None:
        self._partial: dict[Literal["stdout", "stderr"], bytes] = {}

    def feed(self, stream: Literal["stdout", "stderr"], data: bytes) -> list[LogLine]:
        buf = self._partial.get(stream, b"") + data
        *lines, rest = buf.split(b"\n")
        self._partial[stream] = rest
        return [LogLine(stream=stream, data=line) for line in lines]

    def flush(self) -> list[LogLine]:
        out = [LogLine(stream=s, data=d) for s, d in self._partial.items() if d]
        self._partial.clear()
        return out
