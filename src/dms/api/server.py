"""Serve the API with Hypercorn's trio worker on the daemon's own loop."""

from __future__ import annotations

import logging
from typing import Any

import trio
from hypercorn.config import Config as HyperConfig
from hypercorn.trio import serve as hyper_serve

from dms.errors import ConfigError

log = logging.getLogger("dms.api")


async def serve_api(app: Any, host: str, port: int, *, shutdown: trio.Event,
                    task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
    """Serve until ``shutdown`` is set; ``task_status.started(port)`` once listening."""
    cfg = HyperConfig()
    cfg.bind = [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"]
    cfg.accesslog = None
    cfg.errorlog = logging.getLogger("hypercorn.error")
    cfg.graceful_timeout = 2.0

    async def started_port(*, task_status: Any = trio.TASK_STATUS_IGNORED
                           ) -> None:
        await hyper_serve(app, cfg, shutdown_trigger=shutdown.wait, task_status=task_status)

    try:
        async with trio.open_nursery() as nursery:
            binds = await nursery.start(started_port)
            bound = int(str(binds[0]).rsplit(":", 1)[1])
            log.info("api listening on %s", binds[0])
            task_status.started(bound)
    except BaseException as exc:
        os_err = _find(exc, OSError)
        if os_err is None:
            raise
        raise ConfigError(f"cannot listen on {host}:{port}: {os_err.strerror or os_err}",
                          hint="pick another port with --api-port or `dms config set api.port N`") from exc


def _find(exc: BaseException, kind: type[OSError]) -> OSError | None:
    """The first ``kind`` inside a (possibly nested) exception group."""
    if isinstance(exc, kind):
        return exc
    if isinstance(exc, BaseExceptionGroup):
        for sub in exc.exceptions:
            found = _find(sub, kind)
            if found is not None:
                return found
    return None
