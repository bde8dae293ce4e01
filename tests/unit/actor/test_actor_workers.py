"""The elastic worker pool that runs requests: reuse, no head-of-line blocking, bounds."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from dms.actor.workers import Workers

pytestmark = pytest.mark.unit


async def test_idle_workers_are_reused() -> None:
    done: list[int] = []

    async def job(i: int) -> None:
        done.append(i)

    async with trio.open_nursery() as nursery:
        pool = Workers(nursery)
        for i in range(50):
            pool.submit(job, i)
            await trio.testing.wait_all_tasks_blocked()
        assert done == list(range(50))
        assert pool.started == 1 and pool.idle == 1
        nursery.cancel_scope.cancel()


async def test_a_slow_job_never_delays_the_next_one() -> None:
    release = trio.Event()
    done: list[str] = []

    async def slow() -> None:
        await release.wait()
        done.append("slow")

    async def fast() -> None:
        done.append("fast")

    async with trio.open_nursery() as nursery:
        pool = Workers(nursery)
        pool.submit(slow)
        await trio.testing.wait_all_tasks_blocked()
        pool.submit(fast)  # the only worker is busy: a second one starts
        await trio.testing.wait_all_tasks_blocked()
        assert done == ["fast"] and pool.started == 2
        release.set()
        await trio.testing.wait_all_tasks_blocked()
        assert done == ["fast", "slow"] and pool.idle == 2
        nursery.cancel_scope.cancel()


async def test_at_most_max_idle_workers_stay_parked() -> None:
    gate = trio.Event()

    async def job() -> None:
        await gate.wait()

    async with trio.open_nursery() as nursery:
        pool = Workers(nursery, max_idle=3)
        for _ in range(10):
            pool.submit(job)
        await trio.testing.wait_all_tasks_blocked()
        assert pool.started == 10
        gate.set()
        await trio.testing.wait_all_tasks_blocked()
        assert pool.idle == 3
        # the parked workers take the next jobs; no new task starts
        for _ in range(3):
            pool.submit(job)
        await trio.testing.wait_all_tasks_blocked()
        assert pool.started == 10 and pool.idle == 3
        nursery.cancel_scope.cancel()
