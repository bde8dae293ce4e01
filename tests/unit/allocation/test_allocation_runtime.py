"""The allocation runtime against the noop executor: lifecycle, output, restarts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import trio

from dms.allocation.runtime import AllocationRecord, AllocationRuntime
from dms.errors import ValidationError
from dms.executor.contract import WorkloadSpec
from dms.executor.noop import NoopBehavior, NoopExecutor
from dms.store import MemoryStore

pytestmark = pytest.mark.unit


class Changes:
    """Wakes waiters whenever the runtime reports a status."""

    def __init__(self) -> None:
        self.event = trio.Event()

    def fire(self) -> None:
        self.event.set()
        self.event = trio.Event()

    async def until(self, pred: Any) -> None:
        while not pred():
            await self.event.wait()


CHANGES = Changes()


def make(tmp_path: Path, behavior: Any, *, type: str = "service", max_restarts: int = 3
         ) -> tuple[AllocationRuntime, list[tuple[str, str | None]], list[str]]:
    seen: list[tuple[str, str | None]] = []
    ended: list[str] = []

    async def notify(rec: AllocationRecord, info: dict[str, Any]) -> None:
        seen.append((rec.status, rec.reason))
        CHANGES.fire()

    rec = AllocationRecord(id="e1/web", ensemble_id="e1", name="web", node="n1", type=type,
                           executor="noop")
    rt = AllocationRuntime(rec, WorkloadSpec(id="web", executor="noop"),
                           NoopExecutor(behavior), MemoryStore(), tmp_path, notify=notify,
                           on_end=lambda r: ended.append(r.status), max_restarts=max_restarts)
    return rt, seen, ended


async def test_task_failure_is_final_and_output_kept(tmp_path: Path, autojump_clock: Any) -> None:
    rt, seen, ended = make(tmp_path, NoopBehavior.printing("a", "b", exit_code=1), type="task")
    await rt.run()
    assert [s for s, _ in seen] == ["starting", "running", "failed"]
    assert seen[-1][1] == "exited with code 1"
    assert rt.output_text()["stdout"] == "a\nb\n"
    assert ended == ["failed"]


async def test_failing_service_is_restarted_then_given_up(tmp_path: Path, autojump_clock: Any) -> None:
    rt, seen, ended = make(tmp_path, NoopBehavior(exit_code=2), max_restarts=2)
    t0 = trio.current_time()
    await rt.run()
    statuses = [s for s, _ in seen]
    assert statuses.count("restarting") == 2 and statuses[-1] == "failed"
    assert "restart 1 of 2" in seen[statuses.index("restarting")][1]
    assert seen[-1][1] == "exited with code 2 (after 2 restart(s))"
    assert rt.record.restarts == 2
    assert trio.current_time() - t0 >= 0.5 + 1.0  # exponential back-off was waited
    assert ended == ["failed"]


async def test_service_recovers_after_a_restart_and_stops_on_request(tmp_path: Path,
                                                                     autojump_clock: Any) -> None:
    def behavior(spec: WorkloadSpec) -> NoopBehavior:
        # the first run crashes; the restarted one (a fresh id) keeps running
        return NoopBehavior(delay_s=3600) if spec.id.endswith("-r1") else NoopBehavior(exit_code=1)

    rt, seen, ended = make(tmp_path, behavior)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(rt.run)
        await CHANGES.until(lambda: rt.record.restarts == 1 and rt.record.status == "running")
        await rt.stop()
    assert [s for s, _ in seen] == ["starting", "running", "restarting", "starting", "running",
                                    "stopped"]
    assert ended == ["stopped"]


async def test_stop_during_back_off_ends_at_once(tmp_path: Path, autojump_clock: Any) -> None:
    rt, seen, ended = make(tmp_path, NoopBehavior(exit_code=1), max_restarts=5)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(rt.run)
        await CHANGES.until(lambda: rt.record.status == "restarting")
        t0 = trio.current_time()
        await rt.stop()
        await rt.wait_ended()
        assert trio.current_time() - t0 < 0.5
    assert seen[-1][0] == "stopped" and ended == ["stopped"]


async def test_restart_on_request_starts_a_new_run_without_counting_a_failure(
        tmp_path: Path, autojump_clock: Any) -> None:
    rt, seen, _ = make(tmp_path, NoopBehavior(delay_s=3600))
    async with trio.open_nursery() as nursery:
        nursery.start_soon(rt.run)
        await CHANGES.until(lambda: rt.record.status == "running")
        await rt.restart("restarted by its supervisor (db failed)")
        await CHANGES.until(lambda: [s for s, _ in seen].count("running") == 2)
        assert rt.record.restarts == 0  # not a failure
        await rt.stop()
    assert [s for s, _ in seen] == ["starting", "running", "restarting", "starting", "running",
                                    "stopped"]
    assert seen[2][1] == "restarted by its supervisor (db failed)"
    with pytest.raises(ValidationError, match="cannot be restarted"):
        await rt.restart("again")


async def test_adopted_workload_is_followed_not_restarted(tmp_path: Path,
                                                          autojump_clock: Any) -> None:
    """A provider restart: a new runtime adopts the running workload from the executor's
    recover(), reports it running again, keeps its output and sees its real exit."""
    from dms.executor.noop import NoopBackend

    backend = NoopBackend()
    behavior = NoopBehavior.printing("up", delay_s=10.0)
    first = NoopExecutor(behavior, backend=backend)
    store = MemoryStore()
    rec = AllocationRecord(id="e1/web", ensemble_id="e1", name="web", node="n1",
                           type="service", executor="noop")

    async def quiet(rec: AllocationRecord, info: dict[str, Any]) -> None:
        CHANGES.fire()

    rt = AllocationRuntime(rec, WorkloadSpec(id="web", executor="noop"), first, store,
                           tmp_path, notify=quiet, on_end=lambda r: None)
    async with trio.open_nursery() as nursery:  # the first provider process
        nursery.start_soon(rt.run)
        await CHANGES.until(lambda: rt.record.status == "running")
        nursery.cancel_scope.cancel()  # it stops; the workload lives on in the backend
    doc = store.collection("allocations").get("e1/web")
    assert doc["status"] == "running" and doc["handle"]["ref"]

    seen: list[tuple[str, str | None]] = []

    async def notify(rec: AllocationRecord, info: dict[str, Any]) -> None:
        seen.append((rec.status, rec.reason))
        CHANGES.fire()

    again = NoopExecutor(behavior, backend=backend)
    (handle,) = [h for h in await again.recover() if h.ref == doc["handle"]["ref"]]
    rt2 = AllocationRuntime(AllocationRecord.from_dict(doc),
                            WorkloadSpec(id="web", executor="noop"), again, store, tmp_path,
                            notify=notify, on_end=lambda r: None)
    await rt2.run(adopt=handle)
    assert again.started == []  # nothing was started anew
    assert seen[0] == ("running", "re-attached after the provider restarted")
    assert seen[-1][0] == "completed"
    assert rt2.output_text()["stdout"] == "up\n"
