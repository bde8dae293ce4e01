"""Kept message streams: one yamux stream per peer pair, length-prefixed frames.

    sender ──send(peer, body)──> PeerStream (lazy open, batched writes) ══ yamux ══>
    reader task (one per stream) ──frames──> on_frame(peer_id, body)

A stream is opened lazily on the first send, reused for every later message in both
directions (an inbound stream also carries our messages back), and reopened once when
a write fails. Writes are batched: concurrent senders append frames and the one holding
the lock writes them all in one yamux frame.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import trio
from libp2p.abc import IHost, INetStream
from libp2p.custom_types import TProtocol
from libp2p.peer.id import ID

from dms.errors import NetworkError
from dms.network.errors import NETWORK_EXCEPTIONS, network_errors
from dms.network.framing import FrameReader, encode_frame

log = logging.getLogger(__name__)

MSG_PROTOCOL = TProtocol("/dms/msg/1.0.0")

FrameHandler = Callable[[str, bytes], None]


class PeerStream:
    """One kept stream and its write batching.

    No trio.Lock: its acquire is a scheduling checkpoint even when free, which costs a
    loop turn per message. An uncontended write goes straight to the stream; while a
    write is in flight, later frames queue and the next writer sends them in one go.
    """

    def __init__(self, stream: INetStream) -> None:
        self.stream = stream
        self.error: BaseException | None = None
        self._busy = False
        self._idle = trio.Event()
        self._pending: list[bytes] = []
        self._next_seq = 0
        self._written = 0

    async def write(self, frame: bytes) -> None:
        seq = self._next_seq
        self._next_seq += 1
        self._pending.append(frame)
        while self._busy:
            await self._idle.wait()
        if seq < self._written:
            return  # an earlier writer sent our frame in its batch
        if self.error is not None:
            raise NetworkError(f"message stream failed: {self.error}") from self.error
        self._busy = True
        batch, self._pending = self._pending, []
        upto = self._next_seq
        try:
            await self.stream.write(batch[0] if len(batch) == 1 else b"".join(batch))
            self._written = upto
        except BaseException as exc:
            self.error = exc
            raise
        finally:
            self._busy = False
            idle, self._idle = self._idle, trio.Event()
            idle.set()


class MessageStreams:
    """The per-peer kept streams of one host."""

    def __init__(self, host: IHost, on_frame: FrameHandler, *, max_frame: int,
                 protocol: TProtocol = MSG_PROTOCOL) -> None:
        self._host = host
        self._on_frame = on_frame
        self._max_frame = max_frame
        self._protocol = protocol
        self._streams: dict[ID, PeerStream] = {}
        self._opening: dict[ID, trio.Lock] = {}
        self._nursery: trio.Nursery | None = None

    async def serve(self, *, task_status: Any = trio.TASK_STATUS_IGNORED
                    ) -> None:
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            self._host.set_stream_handler(self._protocol, self._handle_inbound)
            task_status.started()
            try:
                await trio.sleep_forever()
            finally:
                self._nursery = None
                for ps in list(self._streams.values()):
                    with trio.CancelScope(shield=True), trio.move_on_after(0.5):
                        try:
                            await ps.stream.close()
                        except Exception:  # closing a dead stream may fail any way
                            pass
                self._streams.clear()

    def has_stream(self, peer: ID) -> bool:
        return peer in self._streams

    async def send(self, peer: ID, body: bytes) -> None:
        """Deliver one frame to ``peer`` over the kept stream (opened or reopened here)."""
        frame = encode_frame(body)
        for attempt in (1, 2):
            ps = self._streams.get(peer) or await self._open(peer)
            try:
                await ps.write(frame)
                return
            except NetworkError as exc:
                self._drop(peer, ps)
                if attempt == 2:
                    raise NetworkError(f"sending to {peer} failed: {exc.message}",
                                       hint="the peer went away; retry once it is back") from exc
            except NETWORK_EXCEPTIONS as exc:
                self._drop(peer, ps)
                if attempt == 2:
                    raise NetworkError(f"sending to {peer} failed: {exc}",
                                       hint="the peer went away; retry once it is back") from exc

    async def _open(self, peer: ID) -> PeerStream:
        lock = self._opening.setdefault(peer, trio.Lock())
        async with lock:
            ps = self._streams.get(peer)
            if ps is not None:
                return ps
            if self._nursery is None:
                raise NetworkError("the network is not running",
                                   hint="start Network.serve() before sending")
            with network_errors(f"opening a message stream to {peer}"):
                stream = await self._host.new_stream(peer, [self._protocol])
            ps = PeerStream(stream)
            self._streams[peer] = ps
            self._nursery.start_soon(self._read_loop, peer, ps)
            return ps

    def _drop(self, peer: ID, ps: PeerStream) -> None:
        if self._streams.get(peer) is ps:
            del self._streams[peer]
        if self._nursery is not None:
            self._nursery.start_soon(_reset_quietly, ps.stream)

    async def _handle_inbound(self, stream: INetStream) -> None:
        peer = stream.muxed_conn.peer_id
        ps = PeerStream(stream)
        self._streams.setdefault(peer, ps)  # reuse it for our messages to this peer
        await self._read_loop(peer, ps)

    async def _read_loop(self, peer: ID, ps: PeerStream) -> None:
        reader = FrameReader(ps.stream, self._max_frame)
        peer_str = peer.to_base58()
        try:
            while True:
                frames = await reader.read_frames()
                if frames is None:
                    break
                for body in frames:
                    try:
                        self._on_frame(peer_str, body)
                    except Exception:
                        log.exception("frame handler failed for a frame from %s", peer_str)
        except NETWORK_EXCEPTIONS as exc:
            log.debug("message stream from %s ended: %r", peer_str, exc)
        except NetworkError as exc:  # frame too large: protocol violation
            log.warning("closing message stream from %s: %s", peer_str, exc)
        finally:
            if self._streams.get(peer) is ps:
                del self._streams[peer]
            ps.error = ps.error or EOFError("stream closed")
            with trio.CancelScope(shield=True), trio.move_on_after(0.5):
                await _reset_quietly(ps.stream)


async def _reset_quietly(stream: INetStream) -> None:
    try:
        await stream.reset()
    except Exception:  # the stream may already be gone
        pass
