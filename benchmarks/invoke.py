"""Invoke latency and throughput between two dms nodes in one process (loopback).

Measures, in the same run:
  raw_echo      a u32-framed echo on a kept libp2p stream (the baseline transport)
  invoke        Actor.invoke of a trivial behavior: Ed25519 sign + verify on the
                request and on the reply, nonce cache, dispatcher, authorizer (allow list)
  throughput    invokes/s with 32 concurrent callers
  first contact dial + first invoke to a node never contacted before

raw_echo and invoke run in interleaved blocks of 100, so both see the same machine load
(the CI machine is shared; compare the ratio, not absolute numbers, across runs).

UCAN verification (dms.ucan) would add ~0.1 ms per request (cached chains); the
allow-list authorizer used here does not.

Run: .venv/bin/python benchmarks/invoke.py [--n 2000]
The last line of output is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import trio
from libp2p.custom_types import TProtocol

from dms.actor import Actor, AllowList, Router
from dms.actor.behaviors import register_public
from dms.crypto.keys import SigningKey
from dms.network import Network, NetworkSettings
from dms.network.framing import FrameReader, encode_frame

ECHO = TProtocol("/dms/bench/echo/1.0.0")


def _settings() -> NetworkSettings:
    return NetworkSettings(listen_addrs=["/ip4/127.0.0.1/tcp/0"], mdns=False, dht=False)


async def _node(nursery: trio.Nursery) -> tuple[Network, Actor]:
    key = SigningKey.generate()
    net = await nursery.start(Network(key, _settings()).serve)
    router = await nursery.start(Router(net).serve)
    actor = Actor(key, router, AllowList([("*", "/bench")]))
    await register_public(actor)

    async def echo(msg: object) -> dict[str, int]:
        return {"ok": 1}

    actor.register("/bench/echo", echo)
    return net, actor


def _pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))]


class RawEcho:
    """A framed echo on a kept libp2p stream: the transport baseline."""

    def __init__(self, a: Network, b: Network) -> None:
        self.a, self.b = a, b

    async def open(self) -> None:
        async def handler(stream) -> None:  # type: ignore[no-untyped-def]
            reader = FrameReader(stream)
            while (frames := await reader.read_frames()) is not None:
                await stream.write(b"".join(encode_frame(f) for f in frames))

        self.b.host.set_stream_handler(ECHO, handler)
        self.stream = await self.a.host.new_stream(self.b.host.get_id(), [ECHO])
        self.reader = FrameReader(self.stream)

    async def round_trips(self, n: int) -> list[float]:
        body = b"x" * 420  # about the size of a signed invoke envelope
        out = []
        for _ in range(n):
            t0 = time.perf_counter()
            await self.stream.write(encode_frame(body))
            await self.reader.read_frames()
            out.append((time.perf_counter() - t0) * 1e3)
        return out


async def main(n: int, concurrency: int) -> dict[str, float]:
    async with trio.open_nursery() as nursery:
        net_a, a = await _node(nursery)
        net_b, b = await _node(nursery)
        net_c, c = await _node(nursery)

        # first contact: dial + first invoke (fresh pair of nodes)
        t0 = time.perf_counter()
        await net_a.connect(net_b.addrs()[0])
        await a.invoke(b.handle, "/public/hello", {})
        first_contact = (time.perf_counter() - t0) * 1e3

        raw_echo = RawEcho(net_a, net_b)
        await raw_echo.open()
        for _ in range(200):  # warm-up
            await a.invoke(b.handle, "/bench/echo", {"i": 0})
        await raw_echo.round_trips(200)
        # interleaved blocks, so both series see the same machine load
        raw: list[float] = []
        lat: list[float] = []
        block = 100
        for _ in range(max(1, n // block)):
            raw += await raw_echo.round_trips(block)
            for i in range(block):
                t0 = time.perf_counter()
                await a.invoke(b.handle, "/bench/echo", {"i": i})
                lat.append((time.perf_counter() - t0) * 1e3)

        await net_c.connect(net_b.addrs()[0])
        total = max(n * 2, 4000)
        per = total // concurrency

        async def worker() -> None:
            for i in range(per):
                await c.invoke(b.handle, "/bench/echo", {"i": i})

        t0 = time.perf_counter()
        async with trio.open_nursery() as workers:
            for _ in range(concurrency):
                workers.start_soon(worker)
        rate = per * concurrency / (time.perf_counter() - t0)
        nursery.cancel_scope.cancel()

    result = {
        "invoke_p50_ms": round(statistics.median(lat), 3),
        "invoke_p99_ms": round(_pct(lat, 0.99), 3),
        "invokes_per_s": round(rate, 1),
        "raw_echo_p50_ms": round(statistics.median(raw), 3),
        "raw_echo_p99_ms": round(_pct(raw, 0.99), 3),
        "first_contact_ms": round(first_contact, 2),
        "concurrency": concurrency,
        "n": n,
    }
    result["invoke_over_echo"] = round(result["invoke_p50_ms"] / result["raw_echo_p50_ms"], 2)
    return result


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000, help="sequential round trips per series")
    ap.add_argument("--concurrency", type=int, default=32)
    args = ap.parse_args()
    print(json.dumps(trio.run(main, args.n, args.concurrency)))
