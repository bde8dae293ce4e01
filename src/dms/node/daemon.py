"""The daemon: one trio nursery holding every service of a node.

    dms run
      └─ run_daemon(home, config, passphrase)
           ├─ HomeLock            (two daemons never share a home)
           ├─ Node.open()         (keystore -> keys, store)
           └─ nursery
                ├─ Node.serve()   (network, actors, ... as they are wired)
                ├─ serve_api()    (Hypercorn trio worker, loopback only)
                └─ signals        (SIGINT/SIGTERM -> graceful stop)

Readiness is explicit: each service is started with ``nursery.start`` and the runtime
file (pid, API port) is written only when all of them are up, so ``/health`` answering
means the node is ready.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import trio

from dms.api.app import create_app
from dms.api.server import serve_api
from dms.config import Config
from dms.node.home import HomeLock, clear_runtime, write_runtime
from dms.node.node import Node

log = logging.getLogger("dms.daemon")


async def run_daemon(home: Path, config: Config, passphrase: str, *,
                     on_ready: Callable[[int], None] | None = None,
                     task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
    t0 = time.monotonic()
    with HomeLock(home):
        node = Node(home, config)
        node.open(passphrase)
        try:
            shutdown = trio.Event()
            async with trio.open_nursery() as nursery:
                await nursery.start(node.serve)
                app = create_app(node, extra_routers=node.api_routers())
                port = await nursery.start(partial(serve_api, app, config.api.host,
                                                   config.api.port, shutdown=shutdown))
                node.api_port = port
                write_runtime(home, api_port=port, api_host=config.api.host, did=node.did)
                log.info("node %s ready in %.2fs; api on http://%s:%d", node.did,
                         time.monotonic() - t0, config.api.host, port)
                if on_ready:
                    on_ready(port)
                task_status.started(port)
                await _wait_for_signal()
                log.info("shutting down")
                shutdown.set()
                with trio.move_on_after(config.daemon.shutdown_grace_s) as scope:
                    await node.stop()
                if scope.cancelled_caught:
                    log.warning("services did not stop within %.1fs; cancelling",
                                config.daemon.shutdown_grace_s)
                nursery.cancel_scope.deadline = trio.current_time() + config.daemon.shutdown_grace_s
        finally:
            clear_runtime(home)
            node.close()
    log.info("stopped")


async def _wait_for_signal() -> None:
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for sig in signals:
            log.info("received %s", signal.Signals(sig).name)
            return
