"""The Node: wires the layers together explicitly (no import-time registration).

    Node.open(passphrase)   keys (dms, user), store, capability context "dms"
    Node.serve()            Network ─ Router ─ Actor (the node actor, inbox "root")
                            ├─ behaviors: public, peers, node, onboarding, resources,
                            │             hardware, capabilities, deployments
                            ├─ Provider      (bids, commits, allocations run here)
                            └─ Orchestrator  (deployments this node asked for)

Nothing below imports the node; heavy layers are imported here lazily so the CLI stays
fast.
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
REVOCATION_TOPIC = "/nunet/revocations"


def did_of_peer(peer_id: str) -> str:
    """The DID of a dms peer: its libp2p identity is the node's own Ed25519 key."""
    from libp2p.peer.id import ID

    from dms.errors import ValidationError
    from dms.identity.did import did_from_public_key

    try:
        pub = ID.from_base58(peer_id).extract_public_key()
    except Exception as exc:
        raise ValidationError(f"not a peer id: {peer_id!r}",
                              hint="peer ids look like 12D3KooW...") from exc
    if pub is None:
        raise ValidationError(f"peer id {peer_id!r} does not embed its public key",
                              hint="dms peers use Ed25519 identities (12D3KooW...)")
    return did_from_public_key(pub.to_bytes())


class Node:
    def __init__(self, home: Path, config: Config) -> None:
        self.home = home
        self.config = config
        self.started = time.time()
        self.api_port: int | None = None
        self.key: SigningKey | None = None
        self.store: Store | None = None
        self.capctx: Any = None
        self.network: Any = None
        self.router: Any = None
        self.actor: Any = None
        self.provider: Any = None
        self.orchestrator: Any = None
        self.onboarding: Any = None
        self.executors: Any = None
        self.available_executors: dict[str, dict[str, Any]] = {}
        self.executors_probed = trio.Event()
        self._storages: dict[str, Any] = {}
        self.work_dir = resolve_in_home(home, config.daemon.work_dir)
        self._stop = trio.Event()

    # -- lifecycle -------------------------------------------------------------------
    def open(self, passphrase: str) -> None:
        """Load (or on first start create) the keys, open the store and capabilities."""
        from dms.ucan import CapabilityContext

        keystore = Keystore(self.home / "keys")
        first = not keystore.exists(DMS_KEY)
        self.key = keystore.get_or_create(DMS_KEY, passphrase)
        if first:
            log.info("created node key %s", self.key.did)
        if not keystore.exists(USER_KEY):
            # the local person gets a key too, so the CLI can sign its requests
            user = keystore.create(USER_KEY, passphrase)
            log.info("created user key %s", user.did)
        self.capctx = CapabilityContext.load(self.home / "cap" / "dms.json", self.key)
        if first:
            # the local user is fully trusted by its own node (`dms cap anchor` changes it)
            self.capctx.add_root(keystore.public(USER_KEY).did)
        store_path = self.config.store.path
        self.store = open_store(resolve_in_home(self.home, store_path) if store_path else None)
        self.work_dir.mkdir(parents=True, exist_ok=True)

    def _build_executors(self) -> Any:
        from dms.errors import ConfigError
        from dms.executor.registry import ExecutorRegistry, default_executors

        cfg = self.config.executor
        reg = ExecutorRegistry()
        for name in cfg.enabled:
            section = dict(getattr(cfg, name, {}) or {})
            if name == "microvm":
                section.setdefault("state_dir", str(self.work_dir / "microvm"))
            if name == "wasm":
                section.setdefault("state_dir", str(self.work_dir / "wasm"))
            if name == "docker":
                # scope recover() and container names to this node when several share
                # one Docker Engine (a node moved elsewhere may still run on the same one)
                section.setdefault("owner", self.did.rsplit(":", 1)[-1][-16:])
                section.setdefault("name_prefix", f"dms-{section['owner'][-8:]}-")
            try:
                for ex in default_executors({"enabled": [name], name: section}):
                    reg.register(ex)
            except (ConfigError, TypeError, ValueError) as exc:
                log.warning("executor %s is not available: %s", name, exc)
        return reg

    async def serve(self, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        from dms.actor import Actor, Router
        from dms.actor.behaviors import register_peers, register_public
        from dms.network import Network
        from dms.node.behaviors import register_node_behaviors
        from dms.orchestrator.orchestrator import Orchestrator, OrchestratorSettings
        from dms.orchestrator.provider import Provider
        from dms.resources.model import Location
        from dms.resources.onboarding import Onboarding

        assert self.key is not None and self.store is not None
        self.executors = await trio.to_thread.run_sync(self._build_executors)
        from dms.resources.benchmark import BenchmarkConfig

        ob = self.config.onboarding
        self.onboarding = Onboarding(self.store, self.work_dir,
                                     benchmark_config=BenchmarkConfig(budget_s=ob.benchmark_budget_s),
                                     benchmark_max_age_s=ob.benchmark_max_age_s)
        async with trio.open_nursery() as nursery:
            self.network = Network(self.key, self.config.network)
            await nursery.start(self.network.serve)
            self.router = Router(self.network)
            await nursery.start(self.router.serve)
            self.actor = Actor(self.key, self.router, self.capctx)
            await register_public(self.actor, self.public_status)
            register_peers(self.actor, self.network)
            loc = Location(**self.config.location.model_dump())
            self.provider = Provider(actor=self.actor, resources=self.onboarding.resources, onboarding=self.onboarding,
                                     executors=self.executors, store=self.store,
                                     work_dir=self.work_dir / "allocations",
                                     peer_id=self.network.peer_id, capctx=self.capctx,
                                     location=loc, available=lambda: self.available_executors,
                                     ready=self.executors_probed,
                                     max_restarts=self.config.deployment.max_restarts,
                                     storage=self.storage_for, network=self.network)
            self.provider.register()
            d = self.config.deployment
            self.orchestrator = Orchestrator(
                actor=self.actor, network=self.network, capctx=self.capctx, store=self.store,
                settings=OrchestratorSettings(bid_window_s=d.bid_window_s,
                                              commit_expiry_s=d.commit_expiry_s,
                                              call_timeout_s=d.call_timeout_s,
                                              deadline_s=d.deadline_s,
                                              retry_pause_s=d.retry_pause_s,
                                              heartbeat_s=d.heartbeat_s,
                                              max_misses=d.max_misses,
                                              local_bids=d.local_bids,
                                              replace_lost=d.replace_lost),
                did_of_peer=did_of_peer,
                provides=lambda: self.onboarding.resources.onboarded() is not None)
            self.orchestrator.register()
            await register_node_behaviors(self)
            await nursery.start(self.provider.serve)
            await nursery.start(self.orchestrator.serve)
            nursery.start_soon(self._probe_executors)
            log.info("peer %s listening on %s", self.network.peer_id,
                     ", ".join(self.network.addrs()))
            task_status.started()
            await self._stop.wait()
            nursery.cancel_scope.cancel()

    async def _probe_executors(self, every_s: float = 60.0) -> None:
        """Which executors really work here (a daemon ping, a KVM probe: seconds, at
        worst): off the start-up path, and again every minute. Until the first probe ends
        the node declines bids with "no executor ... here"."""
        first = True
        while True:
            found = await self.executors.probe()
            if first or found.keys() != self.available_executors.keys():
                log.info("executors here: %s", ", ".join(sorted(found)) or "none")
            self.available_executors = found
            self.executors_probed.set()
            first = False
            await trio.sleep(every_s)

    def storage_for(self, url: str) -> Any:
        """One storage per kind (s3, local) per node, from the node's storage settings."""
        from dms.storage import open_storage, storage_type

        kind = storage_type(url)
        if kind not in self._storages:
            self._storages[kind] = open_storage(url, self.config.storage)
        return self._storages[kind]

    async def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        for st in self._storages.values():
            close = getattr(st, "close", None)
            if close is not None:
                close()
        if self.actor is not None:
            self.actor.close()
        if self.store is not None:
            self.store.close()
            self.store = None

    # -- what the API and behaviors show -----------------------------------------------
    @property
    def did(self) -> str:
        assert self.key is not None
        return self.key.did

    def public_status(self) -> dict[str, Any]:
        return {"did": self.did, "peer_id": self.network.peer_id if self.network else None,
                "version": __version__}

    def status(self) -> dict[str, Any]:
        onboarded = None
        if self.onboarding is not None:
            onboarded = self.onboarding.resources.onboarded() is not None
        return {
            "did": self.did,
            "peer_id": self.network.peer_id if self.network else None,
            "addrs": self.network.addrs() if self.network else [],
            "peers": len(self.network.connected_peers()) if self.network else 0,
            "version": __version__,
            "uptime_s": round(time.time() - self.started, 3),
            "home": str(self.home),
            "api_port": self.api_port,
            "onboarded": onboarded,
            "executors": sorted(self.available_executors),
        }

    def api_routers(self) -> list[Any]:
        from dms.node.api_routes import router

        return [router]
