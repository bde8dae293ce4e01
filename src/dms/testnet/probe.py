"""Small probes run inside a node's namespace (``ip netns exec NS python -m ...``).

    http URL [--timeout S]             wait until URL answers 2xx; print the body
    echo --bind IP --port P            a UDP echo server
    rtt --to IP --port P [--count N]   UDP round trips to an echo server; JSON in ms

Node APIs answer on loopback only, inside their namespace, so health checks must run
there; so must anything that measures the latency between namespaces.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import sys
import time

from dms.testnet._http import wait_http


def echo(bind: str, port: int) -> None:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((bind, port))
    print("echo ready", flush=True)
    while True:
        data, addr = s.recvfrom(2048)
        s.sendto(data, addr)


def rtt(to: str, port: int, count: int, timeout_s: float = 2.0) -> dict[str, float | int]:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout_s)
    samples: list[float] = []
    lost = 0
    for i in range(count):
        payload = f"{i}".encode()
        t0 = time.monotonic()
        s.sendto(payload, (to, port))
        try:
            while True:
                data, _ = s.recvfrom(2048)
                if data == payload:
                    break
        except TimeoutError:
            lost += 1
            continue
        samples.append((time.monotonic() - t0) * 1000)
    out: dict[str, float | int] = {"sent": count, "lost": lost}
    if samples:
        out |= {"min_ms": min(samples), "median_ms": statistics.median(samples),
                "max_ms": max(samples)}
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m dms.testnet.probe")
    sub = p.add_subparsers(dest="cmd", required=True)
    h = sub.add_parser("http")
    h.add_argument("url")
    h.add_argument("--timeout", type=float, default=30.0)
    e = sub.add_parser("echo")
    e.add_argument("--bind", required=True)
    e.add_argument("--port", type=int, required=True)
    r = sub.add_parser("rtt")
    r.add_argument("--to", required=True)
    r.add_argument("--port", type=int, required=True)
    r.add_argument("--count", type=int, default=5)
    a = p.parse_args(argv)
    if a.cmd == "http":
        body = wait_http(a.url, a.timeout)
        if body is None:
            print(f"no answer from {a.url} within {a.timeout:g}s", file=sys.stderr)
            return 1
        print(body)
        return 0
    if a.cmd == "echo":
        echo(a.bind, a.port)
        return 0
    print(json.dumps(rtt(a.to, a.port, a.count)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
