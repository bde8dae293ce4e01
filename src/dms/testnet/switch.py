"""A userspace Ethernet switch that delays frames: netem for kernels without it.

Some kernels (this project's CI VMs among them) are built without ``sch_netem``, so
``tc qdisc ... netem`` fails with "Specified qdisc kind is unknown". This switch takes
the bridge's place: it owns the host ends of the nodes' veth pairs through
``AF_PACKET`` sockets, learns MAC addresses like a bridge, and sends every frame on
after ``delay`` (+/- ``jitter``, dropped with probability ``loss``), keeping the order
of frames from one port (TCP stays happy). One-way delay is ``delay``, so the round
trip between two nodes is ``2 x delay``: the same as netem on each node's ``eth0``.

``PACKET_VNET_HDR`` keeps the kernel's checksum-offload and GSO metadata with each
frame, so large TCP segments and partial checksums cross the switch unchanged.

Run as ``python -m dms.testnet.switch --id ID --delay-ms D [--jitter-ms J] [--loss P]
IFNAME...`` (root). It stops on SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import heapq
import random
import select
import signal
import socket
import sys
import time
from dataclasses import dataclass, field

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_VNET_HDR = 15
PACKET_OUTGOING = 4
VNET_HDR_LEN = 10
MAX_FRAME = 65536 + VNET_HDR_LEN


@dataclass
class Shaping:
    delay_s: float
    jitter_s: float = 0.0
    loss: float = 0.0  # probability 0..1

    def sample(self, rng: random.Random) -> float | None:
        """Delay for one frame in seconds, or None when the frame is lost."""
        if self.loss > 0 and rng.random() < self.loss:
            return None
        if self.jitter_s <= 0:
            return self.delay_s
        return max(0.0, self.delay_s + rng.uniform(-self.jitter_s, self.jitter_s))


@dataclass
class MacTable:
    """Which port a MAC address was last seen on."""

    ports: dict[bytes, int] = field(default_factory=dict)

    def learn(self, mac: bytes, port: int) -> None:
        if not mac[0] & 1:  # never learn group addresses
            self.ports[mac] = port

    def destinations(self, dst: bytes, src_port: int, n_ports: int) -> list[int]:
        port = self.ports.get(dst)
        if dst[0] & 1 or port is None:  # broadcast, multicast, unknown: flood
            return [p for p in range(n_ports) if p != src_port]
        return [] if port == src_port else [port]


class Scheduler:
    """Frames waiting for their departure time; per-source order is kept."""

    def __init__(self, shaping: Shaping, rng: random.Random) -> None:
        self.shaping = shaping
        self.rng = rng
        self._heap: list[tuple[float, int, int, bytes]] = []
        self._last_due: dict[int, float] = {}
        self._seq = 0

    def push(self, now: float, src_port: int, frame: bytes) -> bool:
        d = self.shaping.sample(self.rng)
        if d is None:
            return False
        due = max(now + d, self._last_due.get(src_port, 0.0))
        self._last_due[src_port] = due
        self._seq += 1
        heapq.heappush(self._heap, (due, self._seq, src_port, frame))
        return True

    def next_due(self) -> float | None:
        return self._heap[0][0] if self._heap else None

    def pop_due(self, now: float) -> list[tuple[int, bytes]]:
        out = []
        while self._heap and self._heap[0][0] <= now:
            _, _, port, frame = heapq.heappop(self._heap)
            out.append((port, frame))
        return out


def _open(ifname: str) -> socket.socket:
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(SOL_PACKET, PACKET_VNET_HDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind((ifname, 0))
    s.setblocking(False)
    return s


def serve(ifnames: list[str], shaping: Shaping, seed: int | None = None) -> None:
    socks = [_open(n) for n in ifnames]
    by_fd = {s.fileno(): i for i, s in enumerate(socks)}
    macs = MacTable()
    sched = Scheduler(shaping, random.Random(seed))
    poller = select.poll()
    for s in socks:
        poller.register(s, select.POLLIN)
    stop = False

    def _stop(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    print("switch ready", flush=True)
    while not stop:
        due = sched.next_due()
        timeout_ms = 1000 if due is None else max(0, int((due - time.monotonic()) * 1000) + 1)
        try:
            events = poller.poll(timeout_ms)
        except InterruptedError:
            continue
        now = time.monotonic()
        for fd, _ in events:
            port = by_fd[fd]
            while True:
                try:
                    frame, addr = socks[port].recvfrom(MAX_FRAME)
                except (BlockingIOError, InterruptedError):
                    break
                except OSError:  # the interface went away (teardown)
                    return
                if addr[2] == PACKET_OUTGOING or len(frame) < VNET_HDR_LEN + 14:
                    continue
                sched.push(now, port, frame)
        for src, frame in sched.pop_due(time.monotonic()):
            eth = frame[VNET_HDR_LEN:]
            macs.learn(eth[6:12], src)
            for dst in macs.destinations(eth[0:6], src, len(socks)):
                try:
                    socks[dst].send(frame)
                except OSError:
                    pass  # a full queue or a vanished port drops the frame, as a wire would


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m dms.testnet.switch")
    p.add_argument("--id", required=True, help="testnet id (lets teardown find this process)")
    p.add_argument("--delay-ms", type=float, default=0.0)
    p.add_argument("--jitter-ms", type=float, default=0.0)
    p.add_argument("--loss", type=float, default=0.0, help="loss probability 0..1")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("ifnames", nargs="+")
    a = p.parse_args(argv)
    serve(a.ifnames, Shaping(a.delay_ms / 1000, a.jitter_ms / 1000, a.loss), a.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
