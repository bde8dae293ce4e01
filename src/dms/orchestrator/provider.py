"""The provider side of the deployment protocol.

    /dms/deployment/request  ──▶ check(onboarded, executors, free resources, location, ports,
                                       pin) ──▶ {"bids": [...], "declines": [...]}
    /dms/deployment/commit   ──▶ ResourceManager.commit(ensemble/node, resources, expiry)
    /dms/deployment/allocate ──▶ commitment -> allocation; one AllocationRuntime each
    /dms/deployment/revert   ──▶ stop what runs, release what is held
    /dms/allocation/{status,logs,stop,restart} for the orchestrator

A restarted provider follows its allocations again: what each needs (workload spec,
health check, storage refs) and each ensemble's orchestrator and update grant are kept
in the store; at start, every workload an executor still knows (``recover()``) is
adopted by a new AllocationRuntime, and the rest are reported lost and reaped.

A bid only goes out when everything fits (an exact fit counts); a decline says why, so
the orchestrator can tell the user. Duplicate requests get the first answer again.
Commitments expire if no allocate follows; the ResourceManager's transactions keep
concurrent deployments from over-committing.
"""

from __future__ import annotations

import base64
import logging
import os
import re
import socket
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import trio

from dms.actor.dispatcher import Message
from dms.actor.wire import Handle
from dms.allocation.health import HealthSpec
from dms.allocation.runtime import (
    COLLECTION,
    ENDED,
    AllocationRecord,
    AllocationRuntime,
    workload_from_dict,
    workload_to_dict,
)
from dms.errors import DMSError, NotFound, ValidationError
from dms.executor.contract import Handle as ExecHandle
from dms.orchestrator import wire
from dms.orchestrator.select import Bid, Decline
from dms.resources.compare import check
from dms.resources.errors import InsufficientResources, NotOnboarded
from dms.resources.model import Location, Resources

log = logging.getLogger("dms.provider")

BID_TTL_S = 30.0
FAULT_ENV = "DMS_TEST_FAULT"  # fault injection for tests of the orchestrator's recovery
MAX_COMMIT_S = 120.0
ENSEMBLES = "provider_ensembles"  # ensemble -> its orchestrator's handle and update grant
LAUNCH = "allocation_launch"      # allocation -> what a restarted provider needs to adopt it
_RUN_SUFFIX = re.compile(r"-r\d+$")  # a workload id is <ensemble>_<allocation>[-r<run>]


class Provider:
    def __init__(self, *, actor: Any, resources: Any, onboarding: Any, executors: Any,
                 store: Any, work_dir: Path, peer_id: str, capctx: Any,
                 location: Location | None = None,
                 available: Callable[[], Iterable[str]] | None = None,
                 ready: trio.Event | None = None, max_restarts: int = 3,
                 storage: Callable[[str], Any] | None = None, network: Any = None) -> None:
        self.actor = actor
        self.network = network  # to keep orchestrators' addresses across a restart
        self.rm = resources
        self.onboarding = onboarding
        self.executors = executors
        self.store = store
        self.work_dir = work_dir
        self.peer_id = peer_id
        self.capctx = capctx
        self.location = location or Location()
        # which executors really work here; the node probes them off the event loop
        self.available = available or (lambda: self.executors.available())
        self.ready = ready  # set once the executors were probed
        self.max_restarts = max_restarts
        self.storage = storage  # url -> Storage, for allocations' inputs and outputs
        self.runtimes: dict[str, AllocationRuntime] = {}
        self._answers: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._nursery: trio.Nursery | None = None
        self._orchestrators: dict[str, Handle] = {}
        self._grants: dict[str, str] = {}  # ensemble -> the token it reports updates with

    def register(self) -> None:
        a = self.actor
        a.register(wire.REQUEST, self.on_request)
        a.register(wire.COMMIT, self.on_commit)
        a.register(wire.ALLOCATE, self.on_allocate)
        a.register(wire.REVERT, self.on_revert)
        a.register(wire.ALLOC_STATUS, self.on_alloc_status)
        a.register(wire.ALLOC_LOGS, self.on_alloc_logs)
        a.register(wire.ALLOC_STOP, self.on_alloc_stop)
        a.register(wire.ALLOC_RESTART, self.on_alloc_restart)

    async def serve(self, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        await self.actor.subscribe(wire.TOPIC)
        self._restore_ensembles()
        adoptable, lost = self._sort_previous()
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            nursery.start_soon(self._reap, lost)
            nursery.start_soon(self._adopt, adoptable)
            task_status.started()
            await trio.sleep_forever()

    # -- after a restart: adopt what still runs, report and reap the rest -----------------
    def _restore_ensembles(self) -> None:
        for eid, doc in self.store.collection(ENSEMBLES).query():
            try:
                self._orchestrators[eid] = dest = Handle.from_dict(doc.get("orchestrator"))
            except ValidationError:
                continue
            if self.network is not None and doc.get("addrs"):
                self.network.add_peer_addrs(dest.peer_id, list(doc["addrs"]))
            if doc.get("grant"):
                self._grants[eid] = doc["grant"]

    def _remember_ensemble(self, eid: str) -> None:
        dest = self._orchestrators.get(eid)
        addrs = self.network.peer_addrs(dest.peer_id) if dest and self.network is not None else []
        self.store.collection(ENSEMBLES).put(eid, {
            "orchestrator": dest.to_dict() if dest else None, "grant": self._grants.get(eid),
            "addrs": addrs})

    def _sort_previous(self) -> tuple[list[dict[str, Any]], list[ExecHandle]]:
        """Allocations a previous run left live: those that can be followed again (their
        workload may have survived) and the handles of lost ones' workloads to reap."""
        launches = self.store.collection(LAUNCH)
        adoptable, lost, reap = [], [], []
        for id_, doc in self.store.collection(COLLECTION).query():
            if doc.get("status") in ENDED:
                continue
            h = doc.get("handle") or {}
            if (h.get("ref") and launches.get(id_) is not None
                    and doc.get("ensemble_id") in self._orchestrators
                    and doc.get("executor") in self.executors):
                adoptable.append(doc)
            else:
                reap += self._lose(doc, "lost: the provider restarted")
                lost.append(doc)
        self._release_idle({_node_id(d) for d in lost} - {_node_id(d) for d in adoptable})
        return adoptable, reap

    def _lose(self, doc: dict[str, Any], reason: str) -> list[ExecHandle]:
        """Mark ``doc`` failed with ``reason``; its workload's handle, if any, to reap."""
        doc.update(status="failed", reason=reason, updated=time.time())
        self.store.collection(COLLECTION).put(doc["id"], doc)
        self.store.collection(LAUNCH).delete(doc["id"])
        h = doc.get("handle") or {}
        if h.get("executor") and h.get("ref"):
            return [ExecHandle(doc["id"].replace("/", "_"), h["executor"], h["ref"])]
        return []

    def _release_idle(self, node_ids: set[str]) -> None:
        for node_id in node_ids:
            if not any(f"{r.record.ensemble_id}/{r.record.node}" == node_id
                       and r.record.status not in ENDED for r in self.runtimes.values()):
                self.rm.release(node_id)

    async def _adopt(self, docs: list[dict[str, Any]]) -> None:
        """Follow again the workloads the executors still know; report the others lost;
        remove runs of our allocations that no record names (a crash between start and
        record)."""
        if self.ready is not None:
            with trio.move_on_after(60):  # the node probes its executors first
                await self.ready.wait()
        found: dict[str, list[ExecHandle]] = {}
        for name in set(self.available()) & set(self.executors.names()):
            try:
                found[name] = await self.executors.get(name).recover()
            except DMSError as exc:
                log.warning("executor %s cannot recover its workloads: %s", name, exc.message)
        lost: list[dict[str, Any]] = []
        reap: list[ExecHandle] = []
        claimed: set[str] = set()
        assert self._nursery is not None
        for doc in docs:
            if doc["executor"] not in found:  # it may still run, out of our reach
                self._lose(doc, f"lost: executor {doc['executor']} is not available here "
                                "since the provider restarted")
                lost.append(doc)
                continue
            was = doc["handle"]
            h = next((x for x in found[doc["executor"]]
                      if x.ref == was["ref"] or x.id == was.get("id")), None)
            if h is not None:
                claimed.add(h.ref)
                if h.meta.get("state") == "lost":  # it died with the provider (wasm)
                    reap.append(h)
                    h = None
            launch = self.store.collection(LAUNCH).get(doc["id"])
            try:
                if launch is None or (h is None and doc.get("type") != "service"):
                    raise NotFound("its workload did not survive the provider restart")
                rt = self._new_runtime(AllocationRecord.from_dict(doc), launch)
            except DMSError as exc:
                reap += self._lose(doc, f"lost: {exc.message}")
                lost.append(doc)
                continue
            self.runtimes[rt.record.id] = rt
            if h is None:  # a service is kept alive: start it again
                log.info("starting service %s again: its workload did not survive", doc["id"])
            else:
                log.info("re-attached allocation %s (%s %s)", doc["id"], h.executor, h.ref[:12])
            self._nursery.start_soon(rt.run, h)
        self._release_idle({_node_id(d) for d in lost})
        for doc in lost:
            await self._notify(AllocationRecord.from_dict(doc), {})
        # an orphan: a workload of one of our allocations that no live record claims (a
        # crash between its start and its record); never one of another node that shares
        # the executor, nor one of an allocation that started since (it may be starting)
        ours = {i.replace("/", "_") for i, _ in self.store.collection(COLLECTION).query()}
        since = set(self.runtimes) - {d["id"] for d in docs}
        ours -= {rid.replace("/", "_") for rid in since}
        reap += [h for hs in found.values() for h in hs
                 if h.ref not in claimed and _RUN_SUFFIX.sub("", h.id) in ours]
        await self._reap(reap)

    def _new_runtime(self, rec: AllocationRecord, launch: dict[str, Any],
                     module: bytes | None = None) -> AllocationRuntime:
        spec = workload_from_dict(launch["spec"])
        return AllocationRuntime(rec, spec, self.executors.get(spec.executor), self.store,
                                 self.work_dir, notify=self._notify, on_end=self._ended,
                                 module_bytes=module, max_restarts=self.max_restarts,
                                 health=HealthSpec.from_dict(launch.get("healthcheck")),
                                 inputs=list(launch.get("inputs") or ()),
                                 outputs=list(launch.get("outputs") or ()),
                                 storage=self.storage)

    async def _reap(self, handles: list[ExecHandle]) -> None:
        """Remove the workloads of allocations lost in a restart: no orphan keeps running."""
        for h in handles:
            try:
                await self.executors.get(h.executor).remove(h)
                log.info("removed the workload of lost allocation %s", h.id)
            except DMSError as exc:
                log.info("could not remove the workload of lost allocation %s: %s",
                         h.id, exc.message)

    # -- bidding -----------------------------------------------------------------------
    def executors_here(self) -> set[str]:
        return set(self.available())

    def check_node(self, name: str, spec: dict[str, Any]) -> Bid | Decline:
        reasons: list[str] = []
        pin = spec.get("peer")
        if pin and pin != self.peer_id:
            return Decline(name, self.peer_id, ("pinned to another peer",))
        if self.rm.onboarded() is None:
            return Decline(name, self.peer_id, ("not onboarded",))
        req = wire.requirements_from_dict(spec.get("requirements") or {})
        have = self.executors_here()
        missing = sorted(set(req.executors) - have)
        if missing:
            reasons.append(f"no executor {', '.join(missing)} here (has {', '.join(sorted(have)) or 'none'})")
        cap = self.onboarding.capability(executors=sorted(have), location=self.location)
        fit = check(type(req)(resources=req.resources, executors=(), locations=req.locations,
                              exclude_locations=req.exclude_locations,
                              max_price_per_hour=req.max_price_per_hour), cap)
        reasons.extend(fit.reasons)
        for port in spec.get("ports") or ():
            public = int(port.get("public") or 0)
            if public and not _port_free(public):
                reasons.append(f"port {public} is in use")
        if reasons:
            return Decline(name, self.peer_id, tuple(reasons))
        return Bid(name, self.peer_id, self.actor.did, cap, time.time() + BID_TTL_S)

    async def on_request(self, msg: Message) -> Any:
        p = _obj(msg.payload)
        rid = str(p.get("request_id") or "")
        if rid and rid in self._answers:
            return self._answers[rid]
        if self.ready is not None and not self.ready.is_set():
            with trio.move_on_after(10):  # a node just started: its executors are being probed
                await self.ready.wait()
        bids, declines = [], []
        for name, spec in (_obj(p.get("nodes"))).items():
            out = self.check_node(name, _obj(spec))
            if isinstance(out, Bid):
                bids.append(out.to_dict())
            else:
                declines.append({"node": out.node, "peer_id": out.peer_id, "reasons": list(out.reasons)})
        answer = {"bids": bids, "declines": declines, "peer_id": self.peer_id}
        if rid:
            self._answers[rid] = answer
            while len(self._answers) > 256:
                self._answers.popitem(last=False)
        return answer

    # -- commit / allocate / revert ---------------------------------------------------
    async def on_commit(self, msg: Message) -> Any:
        p = _obj(msg.payload)
        rid = _rid(p)
        res = Resources.from_dict(p.get("resources"))
        expiry = min(float(p.get("expiry_s") or 10.0), MAX_COMMIT_S)
        try:
            c = self.rm.commit(rid, res, expiry)
        except (InsufficientResources, NotOnboarded) as exc:
            raise DMSError(f"cannot commit {rid}: {exc.message}", hint=exc.hint,
                           code="insufficient_resources") from exc
        grant = p.get("grant")
        if isinstance(grant, str) and grant:
            # lets this node report allocation updates back to the orchestrator
            self.capctx.add_provide(grant)
            self._grants[p["ensemble_id"]] = grant
        self._orchestrators[p["ensemble_id"]] = msg.sender
        self._remember_ensemble(p["ensemble_id"])
        return {"committed": rid, "expires_at": c.expires_at}

    async def on_allocate(self, msg: Message) -> Any:
        if os.environ.get(FAULT_ENV) == "exit-after-commit":
            # test hook: a provider that committed, then crashed before it could allocate
            log.warning("%s=exit-after-commit: exiting now", FAULT_ENV)
            os._exit(70)
        p = _obj(msg.payload)
        rid = _rid(p)
        ens = str(p["ensemble_id"])
        items = p.get("allocations")
        if not isinstance(items, list) or not items:
            raise ValidationError("allocate needs a non-empty 'allocations' list")
        specs = []
        for item in items:
            spec = workload_from_dict(_obj(item.get("workload")))
            if spec.executor not in self.executors:
                raise ValidationError(f"no executor {spec.executor!r} on this node")
            specs.append((item, spec))
        self.rm.allocate(rid)
        self._orchestrators[ens] = msg.sender
        self._remember_ensemble(ens)
        out = {}
        assert self._nursery is not None
        for item, spec in specs:
            rec = AllocationRecord(id=f"{ens}/{item['name']}", ensemble_id=ens,
                                   name=str(item["name"]), node=str(p["node"]),
                                   type=str(item.get("type") or "task"), executor=spec.executor,
                                   created=time.time())
            module = item.get("module_b64")
            launch = {"spec": workload_to_dict(spec), "healthcheck": item.get("healthcheck"),
                      "inputs": item.get("inputs") or [], "outputs": item.get("outputs") or []}
            rt = self._new_runtime(rec, launch, base64.b64decode(module) if module else None)
            # kept until it ends: a restarted provider adopts the workload with it
            self.store.collection(LAUNCH).put(rec.id, {**launch, "spec": workload_to_dict(rt.spec)})
            self.runtimes[rec.id] = rt
            out[rec.name] = {"id": rec.id, "did": rt.key.did, "peer_id": self.peer_id}
        for item, _ in specs:
            self._nursery.start_soon(self.runtimes[f"{ens}/{item['name']}"].run)
        return {"allocations": out}

    async def on_revert(self, msg: Message) -> Any:
        p = _obj(msg.payload)
        rid = _rid(p)
        stopped = []
        for rt in list(self.runtimes.values()):
            if rt.record.ensemble_id == p["ensemble_id"] and rt.record.node == p["node"]:
                await rt.stop()
                stopped.append(rt.record.name)
        released = self.rm.release(rid)
        if not stopped:
            self._forget_if_done(str(p["ensemble_id"]))
        return {"released": released, "stopped": stopped}

    def _ended(self, rec: AllocationRecord) -> None:
        if rec.status in ENDED:  # (not when the provider itself is stopping)
            self.store.collection(LAUNCH).delete(rec.id)
        node_id = f"{rec.ensemble_id}/{rec.node}"
        others = [r for r in self.runtimes.values() if r.record.ensemble_id == rec.ensemble_id
                  and r.record.node == rec.node and r.record.status not in ENDED]
        if not others:
            self.rm.release(node_id)
        self._forget_if_done(rec.ensemble_id)

    def _forget_if_done(self, ensemble_id: str) -> None:
        """Once nothing of an ensemble lives here, drop its update grant (no pile-up)."""
        if any(r.record.ensemble_id == ensemble_id and r.record.status not in ENDED
               for r in self.runtimes.values()):
            return
        grant = self._grants.pop(ensemble_id, None)
        if grant is not None:
            self.capctx.remove_anchor("provide", grant)
        self.store.collection(ENSEMBLES).delete(ensemble_id)

    async def _notify(self, rec: AllocationRecord, info: dict[str, Any]) -> None:
        dest = self._orchestrators.get(rec.ensemble_id)
        if dest is None:
            return
        await self.actor.send(dest, wire.UPDATE, {"allocation": rec.to_dict(), **info})

    # -- allocation behaviors ---------------------------------------------------------
    def _runtime(self, payload: Any) -> AllocationRuntime:
        aid = str(_obj(payload).get("allocation") or "")
        rt = self.runtimes.get(aid)
        if rt is None:
            raise NotFound(f"no allocation {aid!r} on this node",
                           hint="list them with `dms deployment status <id>`")
        return rt

    async def on_alloc_status(self, msg: Message) -> Any:
        aid = str(_obj(msg.payload).get("allocation") or "")
        rt = self.runtimes.get(aid)
        if rt is not None:
            return rt.status()
        doc = self.store.collection(COLLECTION).get(aid)
        if doc is None:
            raise NotFound(f"no allocation {aid!r} on this node")
        return doc

    async def on_alloc_logs(self, msg: Message) -> Any:
        rt = self._runtime(msg.payload)
        return {"output": rt.output_text(), "status": rt.record.status}

    async def on_alloc_restart(self, msg: Message) -> Any:
        rt = self._runtime(msg.payload)
        reason = str(_obj(msg.payload).get("reason") or "restart requested")
        await rt.restart(reason)
        return rt.status()

    async def on_alloc_stop(self, msg: Message) -> Any:
        rt = self._runtime(msg.payload)
        await rt.stop()
        with trio.move_on_after(10):
            await rt.wait_ended()
        return rt.status()


def _obj(x: Any) -> dict[str, Any]:
    if not isinstance(x, dict):
        raise ValidationError("payload must be a JSON object")
    return x


def _node_id(alloc: dict[str, Any]) -> str:
    """The resource reservation an allocation record belongs to: ``<ensemble>/<node>``."""
    return f"{alloc.get('ensemble_id')}/{alloc.get('node')}"


def _rid(p: dict[str, Any]) -> str:
    try:
        return f"{p['ensemble_id']}/{p['node']}"
    except KeyError as exc:
        raise ValidationError(f"payload misses {exc.args[0]!r}") from exc


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True
