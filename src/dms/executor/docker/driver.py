"""The Docker executor: one container per workload, through the Engine API.

Every docker SDK call runs in a worker thread: short calls under ``api_threads``,
calls that last as long as the workload (wait, log follow) under ``stream_threads``,
so a hundred followers never starve a create.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import docker
import docker.errors
import requests
import trio
from docker.utils import parse_repository_tag

from dms.errors import ExecutorError
from dms.executor.contract import ExitStatus, Handle, LogLine, WorkloadSpec
from dms.executor.docker.config import CreateArgs, DockerSettings, create_args
from dms.executor.docker.fingerprint import fingerprint, gpu_vendors, group_ids, ping_unix
from dms.executor.docker.handle import LineSplitter, read_frame
from dms.executor.docker.state import (
    NAME,
    classify_exit,
    handle_from_summary,
    handle_meta,
    recover_filters,
)

T = TypeVar("T")

_IMAGE_HINT = ("load it into this daemon (`docker load -i image.tar`, or `docker import "
               "rootfs.tar NAME`), or make a registry that has it reachable")


def _unix_time(stamp: str | None) -> float | None:
    """Engine timestamps have nanoseconds; Python parses microseconds."""
    if not stamp or stamp.startswith("0001-"):
        return None
    head, _, frac = stamp.rstrip("Z").partition(".")
    try:
        return datetime.fromisoformat(f"{head}.{(frac + '000000')[:6]}+00:00").timestamp()
    except ValueError:
        return None


def _hang_up(resp: Any) -> None:
    """End a streamed response without blocking the loop.

    A reader thread abandoned by a cancel may sit in ``recv`` holding the buffered
    reader's lock, so ``resp.close()`` here would wait for the next log line (forever
    for a quiet workload). Shutting the socket down wakes that reader at once; the
    close itself then runs in a throwaway thread.
    """
    try:
        fp = resp.raw._fp.fp.raw
        getattr(fp, "_sock", fp).shutdown(socket.SHUT_RDWR)
    except (AttributeError, OSError):
        pass
    threading.Thread(target=resp.close, name="dms-docker-log-close", daemon=True).start()


class DockerExecutor:
    """Runs workloads as containers on one Docker Engine (``settings.base_url``)."""

    name = NAME

    def __init__(self, settings: DockerSettings | None = None) -> None:
        self.settings = settings or DockerSettings()
        self._api_limiter = trio.CapacityLimiter(self.settings.api_threads)
        self._stream_limiter = trio.CapacityLimiter(self.settings.stream_threads)
        self._client: docker.APIClient | None = None
        self._client_lock = threading.Lock()
        self._cancelled: set[str] = set()       # container ids this process cancelled
        self._gids = group_ids()

    # -- plumbing ------------------------------------------------------------------
    def _api(self) -> docker.APIClient:
        with self._client_lock:
            if self._client is None:
                s = self.settings
                if s.base_url.startswith("unix://") and not ping_unix(s.base_url,
                                                                       s.probe_timeout_s):
                    raise self._unreachable(OSError("no answer to _ping on the socket"))
                try:
                    self._client = docker.APIClient(
                        base_url=s.base_url, timeout=int(s.api_timeout_s),
                        max_pool_size=s.api_threads + s.stream_threads)
                except docker.errors.DockerException as exc:
                    raise self._unreachable(exc) from exc
            return self._client

    def _unreachable(self, exc: Exception) -> ExecutorError:
        return ExecutorError(
            f"cannot reach the Docker Engine at {self.settings.base_url}: {exc}",
            hint="start dockerd, or point DOCKER_HOST / the docker executor's base_url "
                 "at a running one", code="executor_unavailable")

    async def _api_async(self) -> docker.APIClient:
        client = self._client
        if client is not None:
            return client
        made: docker.APIClient = await self._call(self._api)
        return made

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        with self._translated():
            return await trio.to_thread.run_sync(partial(fn, *args), limiter=self._api_limiter)

    async def _long(self, fn: Callable[..., T], *args: Any) -> T:
        with self._translated():
            return await trio.to_thread.run_sync(  # type: ignore[call-arg]
                partial(fn, *args), limiter=self._stream_limiter, abandon_on_cancel=True)

    @contextmanager
    def _translated(self) -> Iterator[None]:
        """Engine and transport errors -> ExecutorError; NotFound stays for the caller."""
        try:
            yield
        except docker.errors.NotFound:
            raise
        except docker.errors.APIError as exc:
            raise ExecutorError(f"the Docker Engine refused: {exc.explanation or exc}",
                                hint="see the daemon's log; retry if it was restarting"
                                ) from exc
        except (requests.exceptions.ConnectionError, ConnectionError) as exc:
            raise self._unreachable(exc) from exc

    def close(self) -> None:
        with self._client_lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    # -- fingerprint ---------------------------------------------------------------
    def is_installed(self) -> bool:
        if self.settings.base_url.startswith("unix://"):
            return ping_unix(self.settings.base_url, self.settings.probe_timeout_s)
        try:
            probe = docker.APIClient(base_url=self.settings.base_url,
                                     timeout=int(max(1, self.settings.probe_timeout_s)),
                                     version="1.24")
            try:
                return bool(probe.ping())
            finally:
                probe.close()
        except Exception:
            return False

    def capabilities(self) -> dict[str, Any]:
        info = self._api().info()
        return fingerprint(info, gpu_vendors(runtimes=info.get("Runtimes")))

    # -- lifecycle -----------------------------------------------------------------
    async def start(self, spec: WorkloadSpec) -> Handle:
        deadline_at = time.time() + spec.deadline_s if spec.deadline_s is not None else None
        args = create_args(spec, self.settings, deadline_at=deadline_at, gids=self._gids)
        cid, ports = await self._call(self._create_and_start, spec, args)
        meta = handle_meta(args.container["name"], args.container["labels"])
        if ports:
            meta["ports"] = ports
        return Handle(id=spec.id, executor=self.name, ref=cid, meta=meta)

    def _create_and_start(self, spec: WorkloadSpec, args: CreateArgs
                          ) -> tuple[str, dict[int, int]]:
        api = self._api()
        for d in (spec.results_dir, spec.inputs_dir):
            if d is not None and not Path(d).is_absolute():
                raise ExecutorError(f"{d} is not an absolute path",
                                    hint="give results_dir / inputs_dir as absolute paths")
        if spec.results_dir is not None:
            Path(spec.results_dir).mkdir(parents=True, exist_ok=True)
        if spec.inputs_dir is not None and not Path(spec.inputs_dir).is_dir():
            raise ExecutorError(f"inputs dir {spec.inputs_dir} does not exist",
                                hint="create it or fetch the inputs before starting")
        try:
            host_config = api.create_host_config(**args.host)
            try:
                cid = api.create_container(host_config=host_config, **args.container)["Id"]
            except docker.errors.ImageNotFound:
                self._pull(api, args.container["image"])
                cid = api.create_container(host_config=host_config, **args.container)["Id"]
        except docker.errors.APIError as exc:
            if exc.status_code == 409:
                raise ExecutorError(
                    f"a container named {args.container['name']} already exists",
                    hint="remove the old workload first (executor.remove / `docker rm -f`)",
                    code="executor_conflict") from exc
            raise ExecutorError(f"docker refused workload {spec.id}: {exc.explanation}",
                                hint="check the workload's image, command and limits") from exc
        except docker.errors.DockerException as exc:
            raise ExecutorError(f"docker create failed for workload {spec.id}: {exc}",
                                hint="check the workload spec and the daemon") from exc
        except OSError as exc:
            raise self._unreachable(exc) from exc
        try:
            api.start(cid)
        except docker.errors.APIError as exc:
            try:
                api.remove_container(cid, force=True, v=True)
            except docker.errors.APIError:
                pass
            raise ExecutorError(f"docker could not start workload {spec.id}: {exc.explanation}",
                                hint="the command or a device/mount may not exist in the "
                                     "image or on this host") from exc
        ports: dict[int, int] = {}
        if spec.ports:
            bound = api.inspect_container(cid)["NetworkSettings"]["Ports"] or {}
            for key, binds in bound.items():
                if binds:
                    ports[int(key.split("/")[0])] = int(binds[0]["HostPort"])
        return cid, ports

    def _pull(self, api: docker.APIClient, image: str) -> None:
        if not self.settings.pull:
            raise ExecutorError(f"image {image} is not on the Docker Engine at "
                                f"{self.settings.base_url} and pulling is off",
                                hint=_IMAGE_HINT, code="image_missing")
        repo, tag = parse_repository_tag(image)
        try:
            api.pull(repo, tag=tag or "latest")
        except docker.errors.DockerException as exc:
            reason = getattr(exc, "explanation", None) or str(exc)
            raise ExecutorError(
                f"image {image} is neither on the Docker Engine at {self.settings.base_url} "
                f"nor pullable: {reason}", hint=_IMAGE_HINT, code="image_missing") from exc

    async def wait(self, handle: Handle) -> ExitStatus:
        api = await self._api_async()
        deadline_at: float | None = handle.meta.get("deadline_at")
        timed_out = False
        try:
            if deadline_at is not None:
                with trio.move_on_after(max(0.0, deadline_at - time.time())) as scope:
                    await self._long(api.wait, handle.ref)
                if scope.cancelled_caught:
                    timed_out = await self._call(self._kill, handle.ref)
            attrs = await self._long(self._wait_inspect, handle.ref)
        except docker.errors.NotFound:
            return ExitStatus(exit_code=None, lost=True,
                              error=f"container {handle.meta.get('container', handle.ref)} "
                                    "no longer exists")
        state = attrs["State"]
        return classify_exit(state, cancelled=handle.ref in self._cancelled,
                             timed_out=timed_out, deadline_at=deadline_at,
                             finished_at=_unix_time(state.get("FinishedAt")))

    def _wait_inspect(self, ref: str) -> dict[str, Any]:
        """Block until it stops, then read its state (one thread hop for both)."""
        api = self._api()
        api.wait(ref)
        attrs: dict[str, Any] = api.inspect_container(ref)
        return attrs

    def _kill(self, ref: str) -> bool:
        """SIGKILL it; False when it had already stopped."""
        try:
            self._api().kill(ref)
            return True
        except docker.errors.APIError as exc:
            if exc.status_code in (404, 409):
                return False
            raise

    async def cancel(self, handle: Handle) -> None:
        await self._call(self._stop, handle.ref)

    def _stop(self, ref: str) -> None:
        api = self._api()
        try:
            if not api.inspect_container(ref)["State"]["Running"]:
                return
            self._cancelled.add(ref)
            api.stop(ref, timeout=round(self.settings.stop_grace_s))
        except docker.errors.NotFound:
            return

    async def logs(self, handle: Handle, *, follow: bool = False) -> AsyncIterator[LogLine]:
        try:
            if not follow:      # what is there now: read it all in one thread hop
                for line in await self._call(self._read_all, handle.ref):
                    yield line
                return
            resp = await self._call(self._open_logs, handle.ref, True)
        except docker.errors.NotFound:
            return
        splitter = LineSplitter()
        try:
            while True:
                frame = await self._long(read_frame, resp.raw.read)
                if frame is None:
                    break
                for line in splitter.feed(*frame):
                    yield line
            for line in splitter.flush():
                yield line
        finally:
            _hang_up(resp)

    def _read_all(self, ref: str) -> list[LogLine]:
        resp = self._open_logs(ref, False)
        try:
            splitter, lines = LineSplitter(), []
            while (frame := read_frame(resp.raw.read)) is not None:
                lines += splitter.feed(*frame)
            return lines + splitter.flush()
        finally:
            resp.close()

    def _open_logs(self, ref: str, follow: bool) -> Any:
        api = self._api()
        params = {"stdout": 1, "stderr": 1, "follow": int(follow), "tail": "all"}
        resp = api._get(api._url("/containers/{0}/logs", ref), params=params,
                        stream=True, timeout=None)
        api._raise_for_status(resp)
        return resp

    async def remove(self, handle: Handle) -> None:
        await self._call(self._remove, handle.ref)
        self._cancelled.discard(handle.ref)

    def _remove(self, ref: str) -> None:
        try:
            self._api().remove_container(ref, force=True, v=True)
        except docker.errors.NotFound:
            return
        except docker.errors.APIError as exc:
            if exc.status_code == 409 and "in progress" in str(exc.explanation):
                return      # a concurrent removal is already doing it
            raise ExecutorError(f"docker could not remove {ref[:12]}: {exc.explanation}",
                                hint="retry; `docker rm -f` it by hand if it persists") from exc

    async def recover(self) -> list[Handle]:
        summaries = await self._call(self._list_managed)
        handles = [h for h in map(handle_from_summary, summaries) if h is not None]
        return sorted(handles, key=lambda h: h.id)

    def _list_managed(self) -> list[dict[str, Any]]:
        return self._api().containers(all=True, filters=recover_filters(self.settings.owner))

    # -- extras (SupportsStats, SupportsExec) ---------------------------------------
    async def stats(self, handle: Handle) -> dict[str, Any]:
        api = await self._api_async()
        return await self._call(lambda: api.stats(handle.ref, stream=False))

    async def exec(self, handle: Handle, cmd: list[str]) -> tuple[int, bytes]:
        def run() -> tuple[int, bytes]:
            api = self._api()
            exec_id = api.exec_create(handle.ref, cmd)["Id"]
            out = api.exec_start(exec_id)
            return int(api.exec_inspect(exec_id)["ExitCode"]), out
        return await self._call(run)
