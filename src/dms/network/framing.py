"""Length-prefixed frames on a byte stream.

    frame = u32 big-endian length || body        (length excludes the 4-byte header)

Pure codec (:func:`encode_frame`, :class:`FrameDecoder`) apart from the I/O helper
(:class:`FrameReader`), so the codec is unit-tested without a network.
"""

from __future__ import annotations

import struct
from typing import Protocol

from dms.errors import NetworkError

HEADER = struct.Struct(">I")
MAX_FRAME_DEFAULT = 4 * 1024 * 1024


class FrameTooLarge(NetworkError):
    code = "frame_too_large"


def encode_frame(body: bytes) -> bytes:
    """One frame: 4-byte big-endian length, then the body."""
    return HEADER.pack(len(body)) + body


class FrameDecoder:
    """Incremental decoder: feed bytes as they arrive, take whole frames out."""

    __slots__ = ("_buf", "max_frame")

    def __init__(self, max_frame: int = MAX_FRAME_DEFAULT) -> None:
        self._buf = bytearray()
        self.max_frame = max_frame

    def feed(self, data: bytes) -> list[bytes]:
        """Add ``data``; return every frame now complete (possibly none)."""
        buf = self._buf
        buf += data
        frames: list[bytes] = []
        pos = 0
        while len(buf) - pos >= HEADER.size:
            (length,) = HEADER.unpack_from(buf, pos)
            if length > self.max_frame:
                raise FrameTooLarge(
                    f"frame of {length} bytes exceeds the limit of {self.max_frame}",
                    hint="raise network.max_frame_bytes on the receiver, or send less")
            end = pos + HEADER.size + length
            if len(buf) < end:
                break
            frames.append(bytes(buf[pos + HEADER.size:end]))
            pos = end
        if pos:
            del buf[:pos]
        return frames

    @property
    def pending(self) -> int:
        """Bytes buffered that do not form a whole frame yet."""
        return len(self._buf)


class ReadableStream(Protocol):
    async def read(self, n: int | None = None) -> bytes: ...


class FrameReader:
    """Read whole frames from a libp2p stream; ``None`` at a clean end of stream."""

    def __init__(self, stream: ReadableStream, max_frame: int = MAX_FRAME_DEFAULT,
                 chunk: int = 65536) -> None:
        self._stream = stream
        self._decoder = FrameDecoder(max_frame)
        self._ready: list[bytes] = []
        self._chunk = chunk
        # resolved once per reader, not per read (an import statement costs ~1 us a call)
        from libp2p.network.stream.exceptions import StreamEOF

        self._eof: type[Exception] = StreamEOF

    async def read_frames(self) -> list[bytes] | None:
        """Every frame available after at least one read; ``None`` at end of stream."""
        while True:
            try:
                data = await self._stream.read(self._chunk)
            except self._eof:
                return None
            if not data:  # some stream kinds still signal EOF this way
                return None
            frames = self._decoder.feed(data)
            if frames:
                return frames
