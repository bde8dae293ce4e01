"""Health checks: spec parsing, command and http probes, and a runtime that restarts an
unhealthy service (fake exec-capable executor; the real one is in the deploy tests)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import trio

from dms.allocation.health import HealthSpec, probe
from dms.allocation.runtime import AllocationRecord, AllocationRuntime
from dms.executor.contract import Handle, WorkloadSpec
from dms.executor.noop import NoopBehavior, NoopExecutor
from dms.store import MemoryStore

pytestmark = pytest.mark.unit


class ExecNoop(NoopExecutor):
    """The noop executor plus `exec`, answering from a script of (rc, output)."""

    def __init__(self, answers: list[tuple[int, bytes]], **kw: Any) -> None:
        super().__init__(**kw)
        self.answers = answers
        self.calls: list[list[str]] = []

    async def exec(self, handle: Handle, cmd: list[str]) -> tuple[int, bytes]:
        self.calls.append(cmd)
        return self.answers.pop(0) if self.answers else (0, b"ok")


def test_from_dict_and_unsupported() -> None:
    assert HealthSpec.from_dict(None) is None
    assert HealthSpec.from_dict({"type": "http", "endpoint": "http://x", "interval": "1m30s"}
                                ).interval_s == 90  # type: ignore[union-attr]
    hc = HealthSpec.from_dict({"type": "command", "exec": ["true"], "interval": 5,
                               "response": {"type": "contains", "value": "ok"}})
    assert hc is not None and hc.exec == ("true",) and hc.interval_s == 5
    assert "cannot run commands" in (hc.unsupported(NoopExecutor()) or "")
    assert hc.unsupported(ExecNoop([])) is None
    http = HealthSpec.from_dict({"type": "http", "endpoint": "/health"})
    assert http is not None and "full URL" in (http.unsupported(NoopExecutor()) or "")


async def test_command_probe_checks_exit_code_and_output() -> None:
    ex = ExecNoop([(0, b"all ok\n"), (0, b"degraded"), (1, b"")])
    hc = HealthSpec("command", exec=("check",), response_type="contains", response_value="ok")
    h = Handle("x", "noop", "x")
    assert (await probe(hc, ex, h))[0] is True
    assert (await probe(hc, ex, h))[0] is False
    ok, seen = await probe(hc, ex, h)
    assert not ok and "exited with 1" in seen


async def test_http_probe_against_a_real_server() -> None:
    from hypercorn.config import Config
    from hypercorn.trio import serve

    async def app(scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                msg = await receive()
                kind = msg["type"].rsplit(".", 1)[-1]
                await send({"type": f"lifespan.{kind}.complete"})
                if kind == "shutdown":
                    return
        status = 200 if scope["path"] == "/health" else 503
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b"healthy"})

    cfg = Config()
    cfg.bind = ["127.0.0.1:0"]
    async with trio.open_nursery() as nursery:
        binds = await nursery.start(serve, app, cfg)
        base = binds[0]
        good = HealthSpec("http", endpoint=f"{base}/health", response_value="healthy")
        bad = HealthSpec("http", endpoint=f"{base}/nope")
        h = Handle("x", "noop", "x")
        assert (await probe(good, NoopExecutor(), h))[0] is True
        ok, seen = await probe(bad, NoopExecutor(), h)
        assert not ok and "503" in seen
        nursery.cancel_scope.cancel()


async def test_unhealthy_service_is_stopped_and_restarted(tmp_path: Path, autojump_clock: Any) -> None:
    statuses: list[tuple[str, str | None]] = []
    back = trio.Event()

    async def notify(rec: AllocationRecord, info: dict[str, Any]) -> None:
        statuses.append((rec.status, rec.reason))
        if rec.restarts == 1 and rec.status == "running":
            back.set()

    ex = ExecNoop([(1, b"")] * 3, behavior=NoopBehavior(delay_s=3600))
    rec = AllocationRecord(id="e/s", ensemble_id="e", name="s", node="n", type="service",
                           executor="noop")
    rt = AllocationRuntime(rec, WorkloadSpec(id="s", executor="noop"), ex, MemoryStore(),
                           tmp_path, notify=notify, on_end=lambda r: None, max_restarts=1,
                           health=HealthSpec("command", exec=("check",), interval_s=1.0))
    async with trio.open_nursery() as nursery:
        nursery.start_soon(rt.run)
        with trio.fail_after(60):  # virtual time (autojump clock)
            await back.wait()
        await rt.stop()
    restarting = [r for s, r in statuses if s == "restarting"]
    assert len(restarting) == 1 and "unhealthy: 3 health checks failed" in (restarting[0] or "")
    assert statuses[-1][0] == "stopped"
    assert len(ex.calls) >= 3
