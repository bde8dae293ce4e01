"""The measured workloads, each bounded by a time slice. Kept free of dms imports so a
spawned CPU worker process starts fast.

    cpu     op = SHA-256 of a fixed 4 KiB block, chained (deterministic; C speed, no GIL
            contention between processes). ops/s per process; multi = sum over processes
            started together behind a barrier.
    memory  memoryview copy of a large buffer (>> last-level cache where RAM allows);
            GB/s of bytes copied (each byte is read once and written once).
    disk    sequential 1 MiB writes then fsync; sequential 1 MiB reads; random 4 KiB reads.
            O_DIRECT where the filesystem allows it (device speed, no page cache); else
            the file's pages are dropped with posix_fadvise(DONTNEED) after fsync
            ("fadvise": mostly device speed) and, failing that, reads are "cached".
"""

from __future__ import annotations

import hashlib
import mmap
import multiprocessing as mp
import os
import queue
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BLOCK = b"dms-benchmark-block".ljust(4096, b"\x5a")
CHUNK = 64  # ops between clock reads


def cpu_run(duration_s: float) -> tuple[int, float]:
    """(ops, seconds) of the chained-hash workload for about ``duration_s``."""
    digest = b"\x00" * 32
    ops = 0
    start = time.perf_counter()
    end = start + duration_s
    now = start
    while now < end:
        for _ in range(CHUNK):
            digest = hashlib.sha256(digest + BLOCK).digest()
        ops += CHUNK
        now = time.perf_counter()
    return ops, now - start


def _cpu_worker(barrier: Any, duration_s: float, results: Any) -> None:
    barrier.wait(timeout=60)
    results.put(cpu_run(duration_s))


def cpu_parallel(workers: int, duration_s: float, target: Any = _cpu_worker) -> float:
    """Sum of ops/s of ``workers`` processes running the CPU workload at the same time
    (``target``: the worker function, replaceable in tests; it must be importable)."""
    ctx = mp.get_context("spawn")
    barrier, results = ctx.Barrier(workers), ctx.Queue()
    procs = [ctx.Process(target=target, args=(barrier, duration_s, results), daemon=True)
             for _ in range(workers)]
    for p in procs:
        p.start()
    try:
        rates: list[float] = []
        deadline = time.monotonic() + 60 + duration_s * 4
        while len(rates) < workers:
            try:
                ops, secs = results.get(timeout=0.25)
            except queue.Empty:
                dead = [p.exitcode for p in procs if p.exitcode not in (None, 0)]
                if dead or time.monotonic() > deadline:
                    barrier.abort()
                    raise RuntimeError(f"CPU benchmark workers failed (exit codes {dead})"
                                       if dead else "CPU benchmark workers did not answer") from None
                continue
            rates.append(ops / secs if secs > 0 else 0.0)
    finally:
        for p in procs:
            p.join(timeout=10)
            if p.is_alive():
                p.kill()
                p.join()
        results.close()
    return sum(rates)


def memory_copy(duration_s: float, size: int) -> float:
    """GB/s (1e9 bytes) copied between two buffers of ``size`` (rounded to whole MiB, at
    least 1 MiB)."""
    mib = max(1, size >> 20)
    src, dst = bytearray(os.urandom(1 << 20) * mib), bytearray(mib << 20)
    size = mib << 20
    s, d = memoryview(src), memoryview(dst)
    d[:] = s  # touch every page first
    copied, start = 0, time.perf_counter()
    end = start + duration_s
    now = start
    while now < end or copied == 0:
        d[:] = s
        copied += size
        now = time.perf_counter()
    return copied / (now - start) / 1e9


@dataclass
class DiskFigures:
    write_mbps: float
    read_mbps: float
    read_mode: str  # "o_direct" | "fadvise" | "cached"
    iops: float
    iops_mode: str
    bytes_written: int


def _open(path: Path, flags: int) -> tuple[int, bool]:
    direct = getattr(os, "O_DIRECT", 0)
    if direct:
        try:
            return os.open(path, flags | direct, 0o600), True
        except OSError:
            pass
    return os.open(path, flags, 0o600), False


def disk_run(directory: Path, write_s: float, read_s: float, iops_s: float,
             max_bytes: int) -> DiskFigures:
    """Write, read and random-read a scratch file in ``directory`` (removed afterwards)."""
    path = directory / f".dms-benchmark-{os.getpid()}.tmp"
    block = mmap.mmap(-1, 1 << 20)  # page-aligned, as O_DIRECT needs
    block.write(os.urandom(1 << 20))
    try:
        fd, direct_w = _open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        written, start = 0, time.perf_counter()
        try:
            while written < max_bytes and (time.perf_counter() - start < write_s or written == 0):
                try:
                    written += os.write(fd, block)
                except OSError:
                    if not direct_w:
                        raise
                    os.close(fd)  # some filesystems accept O_DIRECT at open but not at write
                    fd, direct_w = os.open(path, os.O_WRONLY | os.O_APPEND), False
            os.fsync(fd)
            write_secs = time.perf_counter() - start
        finally:
            os.close(fd)
        read_mbps, read_mode = _seq_read(path, block, read_s)
        iops, iops_mode = _random_read(path, written, iops_s)
        return DiskFigures(written / write_secs / 1e6, read_mbps, read_mode, iops, iops_mode,
                           written)
    finally:
        block.close()
        path.unlink(missing_ok=True)


def _open_read(path: Path) -> tuple[int, str]:
    fd, direct = _open(path, os.O_RDONLY)
    if direct:
        return fd, "o_direct"
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        return fd, "fadvise"
    except (OSError, AttributeError):
        return fd, "cached"


def _seq_read(path: Path, block: mmap.mmap, seconds: float) -> tuple[float, str]:
    fd, mode = _open_read(path)
    got, start = 0, time.perf_counter()
    try:
        while time.perf_counter() - start < seconds or got == 0:
            try:
                n = os.preadv(fd, [block], got)
            except OSError:
                if mode != "o_direct":
                    raise
                os.close(fd)
                fd, mode = os.open(path, os.O_RDONLY), "cached"
                continue
            if n <= 0:
                break
            got += n
        secs = time.perf_counter() - start
    finally:
        os.close(fd)
    return got / secs / 1e6, mode


def _random_read(path: Path, size: int, seconds: float) -> tuple[float, str]:
    fd, mode = _open_read(path)
    buf = mmap.mmap(-1, 4096)
    rng = random.Random(4096)
    pages = max(1, size // 4096)
    n, start = 0, time.perf_counter()
    try:
        while True:
            for _ in range(16):
                try:
                    os.preadv(fd, [buf], rng.randrange(pages) * 4096)
                except OSError:
                    if mode != "o_direct":
                        raise
                    os.close(fd)
                    fd, mode = os.open(path, os.O_RDONLY), "cached"
                n += 1
            elapsed = time.perf_counter() - start
            if elapsed >= seconds:
                break
    finally:
        os.close(fd)
        buf.close()
    return n / elapsed, mode
