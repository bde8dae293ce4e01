"""The executor contract suite: one set of tests every executor must pass.

How an executor plugs in
------------------------
Subclass :class:`ExecutorContract` in a test module (its name must start with
``Test``) and provide these fixtures (in the module or a conftest)::

    executor            a fresh Executor instance
    restarted_executor  a callable () -> Executor: a NEW instance on the same backend
                        (same daemon, same state dir), as after a dms restart
    make_workload       a callable (kind, *, results_dir=None, deadline_s=None)
                        -> WorkloadSpec with a unique id; kinds are listed in KINDS
    recover_mode        "reattach" (the workload survives a dms restart: docker, qemu,
                        noop) or "lost" (it dies with dms: wasm in process)
    leftovers           a callable (Handle) -> list[str]: what of this workload still
                        exists in the backend (containers, processes, files); empty
                        after remove()

Import it and subclass::

    from dms.testing.executor_contract import ExecutorContract

    class TestMyExecutorContract(ExecutorContract):
        pass

See ``tests/unit/executor/test_executor_noop_contract.py`` (noop) and
``tests/functional/executor/test_executor_docker_contract.py`` (docker) for complete
examples. Assertions carry messages because this module is not assertion-rewritten. Like
``trio.testing``'s stream checks, it ships in the package so that any executor, in or
out of this tree, can be held to the same contract.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import trio

from dms.executor.contract import Executor, ExitStatus, Handle, LogLine, WorkloadSpec

#: What each workload kind must do when the executor runs it.
KINDS: dict[str, str] = {
    "hello": "print a line containing 'hello' (stdout or console), exit 0",
    "exit3": "exit with code 3",
    "oom": "allocate memory past the memory limit the spec sets (a few MiB suffice)",
    "sleep": "run for at least 60 s unless stopped",
    "results": "write a file out.txt containing 'result' into its results dir, exit 0",
    "stream": "print 'tick 1', then 'tick 2', then run for at least 60 s",
    "nap": "run about 2 s, then exit 0",
}

#: Generous bound for one step; a step that needs it is broken, not slow.
STEP_S = 60.0

MakeWorkload = Callable[..., WorkloadSpec]


@asynccontextmanager
async def closing(stream: AsyncIterator[LogLine]) -> AsyncIterator[AsyncIterator[LogLine]]:
    """Close a log stream left early (async generators must not be left to the GC)."""
    try:
        yield stream
    finally:
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            with trio.CancelScope(shield=True):
                await aclose()


async def collect_logs(executor: Executor, handle: Handle) -> list[LogLine]:
    lines: list[LogLine] = []
    with trio.fail_after(STEP_S):
        async for line in executor.logs(handle, follow=False):
            lines.append(line)
    return lines


def text_of(lines: list[LogLine], *streams: str) -> str:
    wanted = streams or ("stdout", "stderr", "console")
    return b"\n".join(ln.data for ln in lines if ln.stream in wanted).decode(errors="replace")


async def wait_for(executor: Executor, handle: Handle) -> ExitStatus:
    with trio.fail_after(STEP_S):
        return await executor.wait(handle)


class ExecutorContract:
    """Behavior every executor shares; see the module docstring for the fixtures."""

    async def _run(self, executor: Executor, spec: WorkloadSpec) -> tuple[Handle, ExitStatus]:
        handle = await executor.start(spec)
        try:
            return handle, await wait_for(executor, handle)
        except BaseException:
            with trio.CancelScope(shield=True):
                await executor.remove(handle)
            raise

    def test_satisfies_protocol(self, executor: Executor) -> None:
        assert isinstance(executor, Executor), f"{executor!r} misses Executor methods"
        assert executor.is_installed(), f"{executor.name} says it is not installed here"
        caps: dict[str, Any] = executor.capabilities()
        json.dumps(caps)  # advertised to peers: must be JSON

    async def test_hello_output_and_exit_zero(self, executor: Executor,
                                              make_workload: MakeWorkload) -> None:
        spec = make_workload("hello")
        handle, status = await self._run(executor, spec)
        try:
            assert handle.id == spec.id and handle.executor == executor.name, handle
            assert status.exit_code == 0 and status.ok, f"hello failed: {status}"
            out = text_of(await collect_logs(executor, handle), "stdout", "console")
            assert "hello" in out, f"no 'hello' in the output: {out!r}"
            again = await wait_for(executor, handle)
            assert again == status, f"a second wait() disagrees: {again} != {status}"
        finally:
            await executor.remove(handle)

    async def test_nonzero_exit_code(self, executor: Executor,
                                     make_workload: MakeWorkload) -> None:
        handle, status = await self._run(executor, make_workload("exit3"))
        try:
            assert status.exit_code == 3, f"expected exit code 3: {status}"
            assert not status.ok and not status.oom_killed and not status.timed_out, status
        finally:
            await executor.remove(handle)

    async def test_memory_limit_is_enforced(self, executor: Executor,
                                            make_workload: MakeWorkload) -> None:
        spec = make_workload("oom")
        assert spec.limits.memory_bytes, "the oom workload must set a memory limit"
        handle, status = await self._run(executor, spec)
        try:
            clear_failure = status.error is not None and "memory" in status.error.lower()
            assert status.oom_killed or clear_failure, f"no OOM reported: {status}"
            assert not status.ok, status
        finally:
            await executor.remove(handle)

    async def test_cancel_stops_and_reports_cancelled(self, executor: Executor,
                                                      make_workload: MakeWorkload) -> None:
        handle = await executor.start(make_workload("sleep"))
        try:
            await executor.cancel(handle)
            status = await wait_for(executor, handle)
            assert status.cancelled and not status.ok, f"not reported cancelled: {status}"
            assert not status.timed_out, status
        finally:
            await executor.remove(handle)

    async def test_results_are_collected(self, executor: Executor, make_workload: MakeWorkload,
                                         tmp_path: Path) -> None:
        results = tmp_path / "results"
        handle, status = await self._run(executor, make_workload("results", results_dir=results))
        try:
            assert status.ok, f"results workload failed: {status}"
            out = results / "out.txt"
            assert out.is_file(), f"out.txt not collected; results dir has {_ls(results)}"
            assert out.read_text().strip() == "result", out.read_text()
        finally:
            await executor.remove(handle)

    async def test_logs_follow_streams_while_running(self, executor: Executor,
                                                     make_workload: MakeWorkload) -> None:
        handle = await executor.start(make_workload("stream"))
        seen: list[str] = []
        try:
            async with closing(executor.logs(handle, follow=True)) as stream:
                with trio.fail_after(STEP_S):
                    async for line in stream:
                        seen.append(line.data.decode(errors="replace").strip())
                        if "tick 2" in seen:
                            break
            assert seen[-2:] == ["tick 1", "tick 2"], f"lines out of order: {seen}"
            with trio.move_on_after(0.3) as still_running:
                await executor.wait(handle)
            assert still_running.cancelled_caught, "the streaming workload already ended"
            await executor.cancel(handle)
            # follow ends by itself once the workload has ended
            tail: list[LogLine] = []
            with trio.fail_after(STEP_S):
                async for line in executor.logs(handle, follow=True):
                    tail.append(line)
            assert "tick 1" in text_of(tail), f"follow after the end lost lines: {tail}"
        finally:
            await executor.remove(handle)

    async def test_deadline_reports_timed_out(self, executor: Executor,
                                              make_workload: MakeWorkload) -> None:
        handle, status = await self._run(executor, make_workload("sleep", deadline_s=1.5))
        try:
            assert status.timed_out and not status.ok, f"deadline not reported: {status}"
            assert not status.cancelled, status
        finally:
            await executor.remove(handle)

    async def test_recover_after_restart(self, executor: Executor,
                                         restarted_executor: Callable[[], Executor],
                                         make_workload: MakeWorkload,
                                         recover_mode: str) -> None:
        spec = make_workload("nap")
        handle = await executor.start(spec)
        fresh = restarted_executor()
        try:
            found = {h.id: h for h in await fresh.recover()}
            if recover_mode == "reattach":
                assert spec.id in found, f"recover() lost {spec.id}: {sorted(found)}"
                status = await wait_for(fresh, found[spec.id])
                assert status.ok, f"wait() on the recovered workload: {status}"
            else:
                assert recover_mode == "lost", recover_mode
                status = await wait_for(fresh, found.get(spec.id, handle))
                assert status.lost and not status.ok, f"not reported lost: {status}"
        finally:
            await fresh.remove(handle)
            await executor.remove(handle)

    async def test_remove_leaves_nothing_behind(self, executor: Executor,
                                                restarted_executor: Callable[[], Executor],
                                                make_workload: MakeWorkload,
                                                leftovers: Callable[[Handle], list[str]]
                                                ) -> None:
        handle, status = await self._run(executor, make_workload("hello"))
        assert status.ok, status
        assert leftovers(handle), "leftovers() sees nothing even before remove()"
        await executor.remove(handle)
        assert leftovers(handle) == [], f"remove() left {leftovers(handle)}"
        assert handle.id not in {h.id for h in await restarted_executor().recover()}
        await executor.remove(handle)  # removing twice is harmless

    async def test_remove_running_workload_stops_it(self, executor: Executor,
                                                    make_workload: MakeWorkload,
                                                    leftovers: Callable[[Handle], list[str]]
                                                    ) -> None:
        handle = await executor.start(make_workload("sleep"))
        with trio.fail_after(STEP_S):
            await executor.remove(handle)
        assert leftovers(handle) == [], f"remove() left {leftovers(handle)}"


def _ls(path: Path) -> list[str]:
    return sorted(p.name for p in path.iterdir()) if path.is_dir() else ["<missing>"]
