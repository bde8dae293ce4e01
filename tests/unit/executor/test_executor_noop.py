"""Noop specifics: the injectable behaviors upper layers rely on."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from dms.errors import ExecutorError
from dms.executor.contract import Limits, LogLine, WorkloadSpec
from dms.executor.noop import Emit, NoopBehavior, NoopExecutor, build

pytestmark = pytest.mark.unit


def spec(wid: str = "w1", **kw: object) -> WorkloadSpec:
    return WorkloadSpec(id=wid, executor="noop", **kw)  # type: ignore[arg-type]


async def test_fail_on_start_raises_executor_error_with_hint() -> None:
    ex = NoopExecutor(NoopBehavior(fail_on_start="image missing"))
    with pytest.raises(ExecutorError, match="image missing") as info:
        await ex.start(spec())
    assert info.value.hint
    assert await ex.recover() == []


async def test_duplicate_id_is_refused() -> None:
    ex = NoopExecutor()
    await ex.start(spec())
    with pytest.raises(ExecutorError, match="already exists"):
        await ex.start(spec())


async def test_exit_after_delay_on_trio_clock(autojump_clock: trio.testing.MockClock) -> None:
    ex = NoopExecutor(NoopBehavior(exit_code=7, delay_s=100))
    h = await ex.start(spec())
    t0 = trio.current_time()
    status = await ex.wait(h)
    assert status.exit_code == 7
    assert trio.current_time() - t0 == pytest.approx(100)


async def test_oom_only_when_usage_exceeds_limit() -> None:
    ex = NoopExecutor(NoopBehavior(memory_bytes=100))
    under = await ex.start(spec("a", limits=Limits(memory_bytes=200)))
    over = await ex.start(spec("b", limits=Limits(memory_bytes=50)))
    unlimited = await ex.start(spec("c"))
    assert (await ex.wait(under)).ok
    assert (await ex.wait(over)).oom_killed
    assert (await ex.wait(unlimited)).ok


async def test_deadline_before_natural_end(autojump_clock: trio.testing.MockClock) -> None:
    ex = NoopExecutor(NoopBehavior(delay_s=10, results={"r": b"x"}))
    h = await ex.start(spec(deadline_s=5))
    status = await ex.wait(h)
    assert status.timed_out and status.exit_code is None


async def test_cancel_after_exit_keeps_exit_status(tmp_path: Path) -> None:
    ex = NoopExecutor(NoopBehavior(exit_code=2, results={"r.txt": b"x"}))
    h = await ex.start(spec(results_dir=tmp_path))
    await ex.cancel(h)
    status = await ex.wait(h)
    assert status.exit_code == 2 and not status.cancelled
    assert (tmp_path / "r.txt").read_bytes() == b"x"


async def test_lines_after_the_end_are_never_emitted(
        autojump_clock: trio.testing.MockClock) -> None:
    behavior = NoopBehavior(delay_s=5, output=(Emit(b"early", "stderr", 1), Emit(b"late", at_s=9)))
    ex = NoopExecutor(behavior)
    h = await ex.start(spec())
    got = [line async for line in ex.logs(h, follow=True)]
    assert got == [LogLine("stderr", b"early")]
    assert (await ex.wait(h)).ok


async def test_logs_without_follow_show_only_what_was_printed(
        autojump_clock: trio.testing.MockClock) -> None:
    ex = NoopExecutor(NoopBehavior(delay_s=50, output=(Emit(b"a"), Emit(b"b", at_s=10))))
    h = await ex.start(spec())
    assert [ln.data async for ln in ex.logs(h)] == [b"a"]
    await trio.sleep(20)
    assert [ln.data async for ln in ex.logs(h)] == [b"a", b"b"]


async def test_unknown_handle_is_lost() -> None:
    ex = NoopExecutor()
    h = await ex.start(spec())
    await ex.remove(h)
    status = await ex.wait(h)
    assert status.lost and not status.ok
    assert [ln async for ln in ex.logs(h)] == []


def test_build_and_started_record() -> None:
    ex = build(None)
    assert ex.name == "noop" and ex.is_installed()
    assert not NoopExecutor(installed=False).is_installed()
