"""The Node: wires the layers together explicitly (no import-time registration).

It owns the node's keys, store and services, and exposes what the API and the node's
behaviors need. Each layer is added here as it lands; nothing below imports the node.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import trio

from dms._version import __version__
from dms.config import Config
from dms.crypto.keys import SigningKey
from dms.crypto.keystore import Keystore
from dms.node.home import resolve_in_home
from dms.store import Store, open_store

log = logging.getLogger("dms.node")

DMS_KEY = "dms"
USER_KEY = "user"


class Node:
    def __init__(self, home: Path, config: Config) -> None:
        self.home = home
        self.config = config
        self.started = time.time()
        self.api_port: int | None = None
        self.key: SigningKey | None = None
        self.store: Store | None = None
        self._stop = trio.Event()

    # -- lifecycle -------------------------------------------------------------------
    def open(self, passphrase: str) -> None:
        """Load (or on first start create) the node key, open the store."""
        keystore = Keystore(self.home / "keys")
        first = not keystore.exists(DMS_KEY)
        self.key = keystore.get_or_create(DMS_KEY, passphrase)
        if first:
            log.info("created node key %s", self.key.did)
        if not keystore.exists(USER_KEY):
            # the local person gets a key too, so the CLI can sign its requests
            user = keystore.create(USER_KEY, passphrase)
            log.info("created user key %s", user.did)
        store_path = self.config.store.path
        self.store = open_store(resolve_in_home(self.home, store_path) if store_path else None)
        resolve_in_home(self.home, self.config.daemon.work_dir).mkdir(parents=True, exist_ok=True)

    async def serve(self, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        await self._stop.wait()

    async def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        if self.store is not None:
            self.store.close()
            self.store = None

    # -- what the API shows ------------------------------------------------------------
    @property
    def did(self) -> str:
        assert self.key is not None
        return self.key.did

    def status(self) -> dict[str, Any]:
        return {
            "did": self.did,
            "version": __version__,
            "uptime_s": round(time.time() - self.started, 3),
            "home": str(self.home),
            "api_port": self.api_port,
        }

    def api_routers(self) -> list[Any]:
        return []
