"""One Allocation: a workload a provider runs for an ensemble, with its own key.

    pending ──start──▶ starting ──▶ running ──exit 0──▶ completed
                          ▲            │  └──exit≠0 / oom / timeout──▶ failed
                          │            ├──stop──▶ stopped
                          └─restarting◀┘ (services that fail: up to max_restarts, back-off)
    (any ending) ──▶ resources released, final status (+ output tail) sent to the orchestrator

Each allocation is an actor of its own (key generated at creation, inbox
``alloc/<id>``) so it can be addressed directly; its record lives in the store
collection ``allocations`` and survives restarts.
"""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import trio

from dms.allocation.health import FAILURES_TO_UNHEALTHY, HealthSpec, probe
from dms.crypto.keys import SigningKey
from dms.errors import DMSError, ExecutorError, ValidationError
from dms.executor.contract import Executor, ExitStatus, Handle, LogLine, WorkloadSpec
from dms.store.contract import Store

log = logging.getLogger("dms.allocation")

COLLECTION = "allocations"
OUTPUT_TAIL = 64 * 1024

PENDING, STARTING, RUNNING, RESTARTING = "pending", "starting", "running", "restarting"
COMPLETED, FAILED, STOPPED = "completed", "failed", "stopped"
ENDED = frozenset({COMPLETED, FAILED, STOPPED})


@dataclass
class AllocationRecord:
    id: str                 # "<ensemble>/<allocation name>"
    ensemble_id: str
    name: str
    node: str               # ensemble node name
    type: str               # task | service
    executor: str
    status: str = PENDING
    exit_code: int | None = None
    reason: str | None = None
    handle: dict[str, Any] | None = None
    did: str | None = None
    restarts: int = 0
    runs: int = 0           # workloads started so far (each run gets a fresh executor id)
    created: float = 0.0
    updated: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> AllocationRecord:
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})


def workload_to_dict(spec: WorkloadSpec) -> dict[str, Any]:
    """WorkloadSpec -> JSON (paths as strings, tuples as lists)."""
    d: dict[str, Any] = {}
    for k, v in vars(spec).items():
        if isinstance(v, Path):
            v = str(v)
        elif k == "limits":
            v = {"cpus": v.cpus, "memory_bytes": v.memory_bytes, "pids": v.pids,
                 "disk_bytes": v.disk_bytes,
                 "gpus": [{"vendor": g.vendor, "index": g.index} for g in v.gpus]}
        elif isinstance(v, tuple):
            v = [list(x) if isinstance(x, tuple) else x for x in v]
        d[k] = v
    return d


def workload_from_dict(d: dict[str, Any]) -> WorkloadSpec:
    from dms.executor.contract import GPURequest, Limits

    try:
        lim = d.get("limits") or {}
        limits = Limits(cpus=lim.get("cpus"), memory_bytes=lim.get("memory_bytes"),
                        pids=lim.get("pids"), disk_bytes=lim.get("disk_bytes"),
                        gpus=tuple(GPURequest(**g) for g in lim.get("gpus") or ()))
        path = lambda k: Path(d[k]) if d.get(k) else None  # noqa: E731
        return WorkloadSpec(
            id=str(d["id"]), executor=str(d["executor"]), image=d.get("image"),
            cmd=tuple(d.get("cmd") or ()),
            entrypoint=tuple(d["entrypoint"]) if d.get("entrypoint") is not None else None,
            env=dict(d.get("env") or {}), working_dir=d.get("working_dir"),
            kernel=path("kernel"), rootfs=path("rootfs"), initrd=path("initrd"),
            kernel_args=d.get("kernel_args") or "", module=path("module"), limits=limits,
            network=bool(d.get("network")), read_only_root=bool(d.get("read_only_root", True)),
            deadline_s=d.get("deadline_s"),
            ports=tuple((int(a), int(b)) for a, b in d.get("ports") or ()),
            labels=dict(d.get("labels") or {}))
    except (KeyError, TypeError, ValueError) as exc:
        raise ValidationError(f"malformed workload spec: {exc}") from exc


Notify = Callable[[AllocationRecord, dict[str, Any]], Awaitable[None]]


def _target(base: Path, path: str, mount: str) -> Path:
    """Where an ensemble path lands under its mount's host dir: "/results/out.txt" and
    "out.txt" -> base/out.txt; "", "/" or "/results" -> base itself; ".." is refused."""
    from dms.storage import confine_relative

    p = path.strip()
    for prefix in (f"/{mount}/", f"{mount}/"):
        if p.startswith(prefix):
            p = p[len(prefix):]
            break
    if p.strip("/") in ("", mount):
        return base
    return confine_relative(base, p)


def _why(st: ExitStatus) -> str:
    return ("out of memory" if st.oom_killed else "deadline exceeded" if st.timed_out
            else "lost by the executor" if st.lost else st.error
            or f"exited with code {st.exit_code}")


class AllocationRuntime:
    """Runs one workload on its executor and reports its life to ``notify``."""

    def __init__(self, record: AllocationRecord, spec: WorkloadSpec, executor: Executor,
                 store: Store, work_dir: Path, *, notify: Notify,
                 on_end: Callable[[AllocationRecord], None],
                 module_bytes: bytes | None = None, max_restarts: int = 3,
                 restart_backoff_s: float = 0.5, health: HealthSpec | None = None,
                 inputs: list[dict[str, str]] | None = None,
                 outputs: list[dict[str, str]] | None = None,
                 storage: Callable[[str], Any] | None = None) -> None:
        self.record = record
        self.key = SigningKey.generate()
        record.did = self.key.did
        self.executor = executor
        self.store = store
        self.dir = work_dir / record.id.replace("/", "_")
        self.notify = notify
        self.on_end = on_end
        self.handle: Handle | None = None
        self.max_restarts = max_restarts
        self.restart_backoff_s = restart_backoff_s
        self.health = health
        self.inputs = inputs or []
        self.outputs = outputs or []
        self.storage = storage
        self._unhealthy: str | None = None
        self._restart_reason: str | None = None
        self.output: list[LogLine] = []
        self._ended = trio.Event()
        self._logs_done = trio.Event()
        self._stop_requested = False
        self._stop_event = trio.Event()
        self.dir.mkdir(parents=True, exist_ok=True)
        results = self.dir / "results"
        results.mkdir(exist_ok=True)
        if module_bytes is not None:
            suffix = spec.module.suffix if spec.module and spec.module.suffix in (".wat", ".wasm") else ".wasm"
            mod = self.dir / f"module{suffix}"
            mod.write_bytes(module_bytes)
            spec = replace(spec, module=mod)
        inputs_dir = self.dir / "inputs" if self.inputs else spec.inputs_dir
        if inputs_dir is not None:
            inputs_dir.mkdir(parents=True, exist_ok=True)
        self.spec = replace(spec, id=record.id.replace("/", "_"), results_dir=results,
                            inputs_dir=inputs_dir,
                            labels={**spec.labels, "dms.ensemble": record.ensemble_id,
                                    "dms.allocation": record.name})
        self._save()

    # -- persistence -----------------------------------------------------------------
    def _save(self) -> None:
        self.record.updated = time.time()
        self.store.collection(COLLECTION).put(self.record.id, self.record.to_dict())

    async def _set(self, status: str, **extra: Any) -> None:
        self.record.status = status
        for k, v in extra.items():
            setattr(self.record, k, v)
        self._save()
        info: dict[str, Any] = {}
        if status in ENDED:
            info["output"] = self.output_text()
            info["results"] = self.results()
        try:
            await self.notify(self.record, info)
        except DMSError as exc:
            log.warning("could not report %s of %s: %s", status, self.record.id, exc)

    # -- lifecycle ---------------------------------------------------------------------
    async def run(self, adopt: Handle | None = None) -> None:
        """Run the workload to its end; with ``adopt``, follow a workload that an earlier
        run of this provider started (it survived a provider restart) instead. Inputs are
        fetched before the first run only."""
        try:
            if not self.record.runs:
                failed = await self._fetch_inputs()
                if failed:
                    await self._set(FAILED, reason=failed)
                    return
            while True:
                st = await self._attempt(adopt)
                adopt = None
                if st is None:
                    return  # it could not start: already failed with the reason
                if self._restart_reason is not None and not self._stop_requested:
                    why, self._restart_reason = self._restart_reason, None
                    await self._set(RESTARTING, exit_code=None, reason=why)
                    continue
                if not self._should_restart(st):
                    await self._finish(st, await self._upload_outputs(st))
                    return
                self.record.restarts += 1
                delay = min(self.restart_backoff_s * 2 ** (self.record.restarts - 1), 30.0)
                await self._set(RESTARTING, exit_code=st.exit_code, reason=(
                    f"{_why(st)}; restart {self.record.restarts} of {self.max_restarts} "
                    f"in {delay:g}s"))
                with trio.move_on_after(delay):
                    await self._stop_event.wait()
                if self._stop_requested:
                    await self._set(STOPPED, reason="stopped on request")
                    return
        except Exception as exc:
            log.exception("allocation %s crashed", self.record.id)
            await self._set(FAILED, reason=f"internal error: {exc}")
        finally:
            self._ended.set()
            self.on_end(self.record)

    async def _attempt(self, adopted: Handle | None = None) -> ExitStatus | None:
        """Start the workload once (or take over ``adopted``), follow its output, wait for
        it, remove it."""
        if adopted is not None:
            self.handle = adopted
            await self._set(RUNNING, reason="re-attached after the provider restarted")
        else:
            spec = self.spec
            if self.record.runs:  # executors need a fresh id per run
                spec = replace(spec, id=f"{spec.id}-r{self.record.runs}")
            self.record.runs += 1  # saved before the start: a crash cannot reuse the id
            await self._set(STARTING, reason=None)
            try:
                self.handle = await self.executor.start(spec)
            except DMSError as exc:
                await self._set(FAILED, reason=f"could not start: {exc.message}")
                return None
            self.record.handle = {"executor": self.handle.executor, "ref": self.handle.ref,
                                  "id": self.handle.id}
            await self._set(RUNNING)
        self._logs_done = trio.Event()
        self._unhealthy = None
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._pump_logs)
            if self.health is not None:
                nursery.start_soon(self._watch_health, self.handle)
            st = await self.executor.wait(self.handle)
            # let the log pump drain what the workload wrote last
            with trio.move_on_after(2):
                await self._logs_done.wait()
            nursery.cancel_scope.cancel()
        await self.remove()  # output and results are kept: the workload itself goes
        if self._unhealthy is not None and not self._stop_requested:
            return ExitStatus(exit_code=st.exit_code, error=f"unhealthy: {self._unhealthy}")
        return st

    async def _watch_health(self, handle: Handle) -> None:
        """Run the health check every interval; after FAILURES_TO_UNHEALTHY failures in a
        row the workload is stopped and counts as failed (so a service is restarted)."""
        assert self.health is not None
        why_not = self.health.unsupported(self.executor)
        if why_not:
            log.warning("health check of %s skipped: %s", self.record.id, why_not)
            return
        failures = 0
        while True:
            await trio.sleep(self.health.interval_s)
            ok, seen = await probe(self.health, self.executor, handle)
            failures = 0 if ok else failures + 1
            if failures >= FAILURES_TO_UNHEALTHY:
                self._unhealthy = f"{failures} health checks failed, last: {seen}"
                log.info("allocation %s is unhealthy: %s", self.record.id, self._unhealthy)
                await self.executor.cancel(handle)
                return

    def _should_restart(self, st: ExitStatus) -> bool:
        """Services are restarted when they fail (not when stopped, not after a clean
        exit), up to ``max_restarts`` times with exponential back-off."""
        return (self.record.type == "service" and not st.ok and not st.cancelled
                and not self._stop_requested and self.record.restarts < self.max_restarts)

    async def _pump_logs(self) -> None:
        assert self.handle is not None
        try:
            async for line in self.executor.logs(self.handle, follow=True):
                self.output.append(line)
        except DMSError as exc:
            log.debug("log stream of %s ended: %s", self.record.id, exc)
        finally:
            self._logs_done.set()

    async def _finish(self, st: ExitStatus, upload_error: str | None = None) -> None:
        if st.cancelled or self._stop_requested:
            await self._set(STOPPED, exit_code=st.exit_code, reason="stopped on request")
        elif st.ok and upload_error:
            await self._set(FAILED, exit_code=0, reason=upload_error)
        elif st.ok:
            await self._set(COMPLETED, exit_code=0)
        else:
            why = _why(st)
            if self.record.restarts:
                why += f" (after {self.record.restarts} restart(s))"
            await self._set(FAILED, exit_code=st.exit_code, reason=why)

    # -- storage -------------------------------------------------------------------------
    async def _fetch_inputs(self) -> str | None:
        """Fetch the ensemble's inputs into /inputs before the first start; why not, or None."""
        for ref in self.inputs:
            url = ref["url"]
            try:
                assert self.storage is not None and self.spec.inputs_dir is not None
                dest = _target(self.spec.inputs_dir, ref.get("path", ""), "inputs")
                dest.parent.mkdir(parents=True, exist_ok=True)
                await self.storage(url).fetch(url, dest)
            except DMSError as exc:
                return f"could not fetch input {url}: {exc.message}"
        return None

    async def _upload_outputs(self, st: ExitStatus) -> str | None:
        """Upload what the ensemble names from /results after the workload ended (it cannot
        change the files any more); why not, or None. Skipped when it was stopped."""
        if st.cancelled or self._stop_requested:
            return None
        assert self.spec.results_dir is not None
        for ref in self.outputs:
            url = ref["url"]
            try:
                assert self.storage is not None
                src = _target(self.spec.results_dir, ref.get("path", ""), "results")
                if not src.exists():
                    return f"output {ref.get('path')} was not written to /results"
                await self.storage(url).put(src, url)
            except DMSError as exc:
                return f"could not upload output to {url}: {exc.message}"
        return None

    async def stop(self) -> None:
        self._stop_requested = True
        self._stop_event.set()
        if self.handle is not None and self.record.status in (STARTING, RUNNING):
            try:
                await self.executor.cancel(self.handle)
            except DMSError as exc:  # it may have ended meanwhile
                log.debug("cancel %s: %s", self.record.id, exc)

    async def restart(self, reason: str) -> None:
        """Restart the workload now (its supervisor asks, e.g. AllForOne): the current run
        is cancelled and a new one starts at once, without counting as a failure."""
        if self.record.status in ENDED:
            raise ValidationError(f"allocation {self.record.id} has ended ({self.record.status}) "
                                  "and cannot be restarted",
                                  hint="deploy it again")
        if self.record.status == RESTARTING or self._restart_reason is not None:
            return  # already on its way back
        self._restart_reason = reason
        if self.handle is not None and self.record.status in (STARTING, RUNNING):
            try:
                await self.executor.cancel(self.handle)
            except DMSError as exc:
                log.debug("cancel %s for a restart: %s", self.record.id, exc)

    async def wait_ended(self) -> None:
        await self._ended.wait()

    async def remove(self) -> None:
        if self.handle is not None:
            try:
                await self.executor.remove(self.handle)
            except ExecutorError as exc:
                log.debug("remove %s: %s", self.record.id, exc)

    # -- views -------------------------------------------------------------------------
    def output_text(self, limit: int = OUTPUT_TAIL) -> dict[str, str]:
        out: dict[str, bytearray] = {}
        for line in self.output:  # executors yield lines without their newline
            buf = out.setdefault(line.stream, bytearray())
            buf.extend(line.data)
            buf.extend(b"\n")
        return {k: bytes(v[-limit:]).decode(errors="replace") for k, v in out.items()}

    def results(self, limit: int = 1024 * 1024) -> dict[str, str]:
        """Files the workload left in its results dir (base64), up to ``limit`` bytes in all."""
        base = self.dir / "results"
        files: dict[str, str] = {}
        used = 0
        for p in sorted(base.rglob("*")):
            if p.is_file():
                data = p.read_bytes()
                if used + len(data) > limit:
                    break
                used += len(data)
                files[str(p.relative_to(base))] = base64.b64encode(data).decode()
        return files

    def status(self) -> dict[str, Any]:
        return self.record.to_dict()
