"""Reply timeouts from one timer task: expiry, early re-arm, finished waiters, shutdown."""

from __future__ import annotations

import gc

import pytest
import trio
import trio.testing

from dms.actor.deadlines import Deadlines

pytestmark = pytest.mark.unit


class W:
    def __init__(self) -> None:
        self.expired_at: float | None = None

    def expire(self) -> None:
        self.expired_at = trio.current_time()


async def test_waiters_expire_at_their_deadline_in_order(autojump_clock) -> None:
    d = Deadlines()
    async with trio.open_nursery() as nursery:
        await nursery.start(d.run)
        late, early = W(), W()
        t0 = trio.current_time()
        d.add(t0 + 10.0, late)
        d.add(t0 + 1.0, early)  # earlier than the armed one: the timer re-arms
        await trio.sleep(5.0)
        assert early.expired_at is not None and 1.0 <= early.expired_at - t0 < 1.1
        assert late.expired_at is None
        await trio.sleep(6.0)
        assert late.expired_at is not None and 10.0 <= late.expired_at - t0 < 10.1
        assert len(d) == 0
        nursery.cancel_scope.cancel()


async def test_a_finished_waiter_is_not_kept_alive(autojump_clock) -> None:
    d = Deadlines()
    async with trio.open_nursery() as nursery:
        await nursery.start(d.run)
        w = W()
        d.add(trio.current_time() + 1.0, w)
        del w
        gc.collect()
        await trio.sleep(2.0)  # the entry is dropped without calling anything
        assert len(d) == 0
        nursery.cancel_scope.cancel()


async def test_stopping_the_timer_expires_everyone_waiting() -> None:
    d = Deadlines()
    w = W()
    async with trio.open_nursery() as nursery:
        await nursery.start(d.run)
        assert d.running
        d.add(trio.current_time() + 3600.0, w)
        await trio.testing.wait_all_tasks_blocked()
        nursery.cancel_scope.cancel()
    assert not d.running and w.expired_at is not None
