"""Reply timeouts from one timer task instead of a cancel scope per request.

    request: deadlines.add(when, pending) ─ await pending.event ─ reply or expiry sets it
    timer task: sleep until the earliest deadline ─ expire every waiter past its deadline

A ``trio.move_on_after`` per invoke costs ~5 us (cancel scope plus a deadline in the
run loop's heap) on the hot path. Here a request costs one heap push; entries hold only
a weak reference, so a finished request is freed at once and its entry is dropped when
its deadline comes (lazily). Expiry is at most ``GRANULARITY`` late.
"""

from __future__ import annotations

import heapq
import itertools
import math
import weakref
from typing import Any, Protocol

import trio

GRANULARITY = 0.005  # s: expiries closer than this are handled in one wake-up


class Waiter(Protocol):
    def expire(self) -> None: ...


class Deadlines:
    def __init__(self) -> None:
        self._heap: list[tuple[float, int, weakref.ref[Any]]] = []
        self._seq = itertools.count()
        self._wake = trio.Event()
        self.running = False

    def __len__(self) -> int:
        return len(self._heap)

    def add(self, when: float, waiter: Waiter) -> None:
        """Call ``waiter.expire()`` at trio time ``when`` unless it is gone by then."""
        entry = (when, next(self._seq), weakref.ref(waiter))
        heapq.heappush(self._heap, entry)
        if self._heap[0] is entry:  # a new earliest deadline: re-arm the timer
            self._wake.set()

    async def run(self, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        self.running = True
        task_status.started()
        try:
            while True:
                now = trio.current_time()
                heap = self._heap
                while heap and heap[0][0] <= now:
                    waiter = heapq.heappop(heap)[2]()
                    if waiter is not None:
                        waiter.expire()
                self._wake = trio.Event()
                at = max(heap[0][0], now + GRANULARITY) if heap else math.inf
                with trio.move_on_at(at):
                    await self._wake.wait()
        finally:
            self.running = False
            # the router is stopping: nobody would wake these waiters any more
            heap, self._heap = self._heap, []
            for _, _, ref in heap:
                waiter = ref()
                if waiter is not None:
                    waiter.expire()
