"""The u32 length-prefixed frame codec."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dms.network.framing import FrameDecoder, FrameReader, FrameTooLarge, encode_frame

pytestmark = pytest.mark.unit


def test_frame_is_big_endian_length_then_body() -> None:
    assert encode_frame(b"abc") == b"\x00\x00\x00\x03abc"
    assert encode_frame(b"") == b"\x00\x00\x00\x00"


def test_decoder_waits_for_whole_frames() -> None:
    d = FrameDecoder()
    data = encode_frame(b"hello") + encode_frame(b"") + encode_frame(b"x" * 70000)
    assert d.feed(data[:3]) == []
    assert d.feed(data[3:8]) == []
    assert d.feed(data[8:20]) == [b"hello", b""]
    assert d.feed(data[20:]) == [b"x" * 70000]
    assert d.pending == 0


def test_oversized_frame_is_refused_before_buffering_it() -> None:
    d = FrameDecoder(max_frame=1024)
    with pytest.raises(FrameTooLarge) as ei:
        d.feed(b"\x00\x01\x00\x00")
    assert ei.value.hint


@given(st.lists(st.binary(max_size=300), max_size=20), st.lists(st.integers(1, 64), min_size=1))
def test_any_chunking_yields_the_same_frames(bodies: list[bytes], cuts: list[int]) -> None:
    stream = b"".join(encode_frame(b) for b in bodies)
    d = FrameDecoder()
    out: list[bytes] = []
    pos, i = 0, 0
    while pos < len(stream):
        step = cuts[i % len(cuts)]
        out += d.feed(stream[pos:pos + step])
        pos += step
        i += 1
    assert out == bodies and d.pending == 0


class ChunkStream:
    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks

    async def read(self, n: int | None = None) -> bytes:
        from libp2p.network.stream.exceptions import StreamEOF

        if not self.chunks:
            raise StreamEOF("end")  # py-libp2p signals the end this way, not with b""
        return self.chunks.pop(0)


async def test_reader_returns_frames_then_none_at_stream_eof() -> None:
    wire = encode_frame(b"one") + encode_frame(b"two")
    reader = FrameReader(ChunkStream([wire[:5], wire[5:9], wire[9:]]))
    assert await reader.read_frames() == [b"one"]
    assert await reader.read_frames() == [b"two"]
    assert await reader.read_frames() is None
