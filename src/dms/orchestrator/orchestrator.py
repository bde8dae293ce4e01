"""The orchestrator: the I/O shell around selection, on the deploying node.

    deploy(ensemble) ─▶ Preparing   lower() the ensemble to a plan
                     ─▶ Generating  bid request on /nunet/deployment (+ direct to pinned
                                     peers); stop when every peer answered or the bid
                                     window closes
                     ─▶ Committing  select(); commit on each chosen peer (reserve with expiry)
                     ─▶ Provisioning allocate on each; allocation actors start
                     ─▶ Running     updates flow back; tasks end -> Completed / Failed
    any failure before Running: revert what was reserved, exclude the peer, try again
    until the deployment deadline.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import trio

from dms.actor.dispatcher import Message
from dms.actor.wire import ROOT_INBOX, Handle
from dms.allocation.runtime import ENDED, workload_to_dict
from dms.errors import AuthError, DMSError, NotFound, ValidationError, find_dms_error
from dms.orchestrator import deployments as dep
from dms.orchestrator import wire
from dms.orchestrator.bidding import collect_bids, measure_rtts
from dms.orchestrator.select import (
    Bid,
    EdgeConstraint,
    NoPlacement,
    Placement,
    select,
)
from dms.orchestrator.supervise import also_restart

log = logging.getLogger("dms.orchestrator")

GRANT_S = 7 * 86400.0
SUPERVISED = "restarted by its supervisor"  # how long a provider may report updates of a deployment


@dataclass(frozen=True)
class OrchestratorSettings:
    bid_window_s: float = 1.0         # longest wait for bids (shorter when all peers answered)
    commit_expiry_s: float = 15.0     # how long a provider holds a commitment without allocate
    call_timeout_s: float = 10.0
    deadline_s: float = 60.0          # default deployment deadline
    retry_pause_s: float = 0.5
    heartbeat_s: float = 2.0          # how often running allocations are checked
    max_misses: int = 3               # unanswered checks before a provider counts as lost
    local_bids: bool = True           # ask this node's own provider too (when it is onboarded)
    replace_lost: bool = True         # move the live allocations of a lost provider elsewhere


class Orchestrator:
    def __init__(self, *, actor: Any, network: Any, capctx: Any, store: Any,
                 settings: OrchestratorSettings | None = None,
                 did_of_peer: Callable[[str], str] | None = None,
                 provides: Callable[[], bool] = lambda: False) -> None:
        """``provides``: whether this node's own provider can bid now (it is onboarded)."""
        self.actor = actor
        self.network = network
        self.capctx = capctx
        self.records = dep.Deployments(store)
        self.settings = settings or OrchestratorSettings()
        self.did_of_peer = did_of_peer
        self.provides = provides
        self._nursery: trio.Nursery | None = None
        self._changed: dict[str, trio.Event] = {}
        self._providers: dict[str, dict[str, str]] = {}  # ensemble -> {did: node name}

    def register(self) -> None:
        self.actor.register(wire.UPDATE, self.on_update)

    async def serve(self, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        interrupted = []
        for d in self.records.find(limit=None):
            if d["status"] not in dep.FINAL and d["status"] != dep.RUNNING:
                self.records.event(d, "the orchestrating node restarted during deployment",
                                   dep.FAILED)
                if d.get("nodes"):
                    interrupted.append(d)
            elif d["status"] == dep.RUNNING:
                for name, peers in (d.get("nodes") or {}).items():
                    self._providers.setdefault(d["id"], {})[peers["did"]] = name
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            for d in self.records.find(dep.RUNNING, limit=None):
                nursery.start_soon(self._watch, d["id"])
            for d in interrupted:
                # the providers chosen before the restart may hold commitments or already
                # run allocations nobody follows now: have them stop and release all
                nursery.start_soon(self._revert, d["id"], d["nodes"])
            task_status.started()
            await trio.sleep_forever()

    # -- public operations ---------------------------------------------------------------
    def new(self, ensemble_yaml: str, *, timeout: float | None = None, queue: bool = False
            ) -> dict[str, Any]:
        from dms.spec import loads_ensemble, lower

        ensemble = loads_ensemble(ensemble_yaml, "ensemble")  # raises with every error
        plan = lower(ensemble)
        eid = secrets.token_hex(8)
        doc = self.records.create(eid, ensemble_yaml, {"queue": queue,
                                                        "deadline": time.time() + (timeout or self.settings.deadline_s)})
        assert self._nursery is not None, "orchestrator not serving"
        self._nursery.start_soon(self._deploy, eid, plan)
        return doc

    async def wait(self, eid: str, since: float = 0.0, within: float = 60.0) -> dict[str, Any]:
        """The record once it changed after ``since`` (its ``updated`` time), or as it is
        after ``within`` seconds: followers wake on each change instead of polling."""
        with trio.move_on_after(within):
            while True:
                doc = self.records.get(eid)
                if doc["updated"] > since:
                    return doc
                await self._event(eid).wait()
        return self.records.get(eid)

    def _event(self, eid: str) -> trio.Event:
        ev = self._changed.get(eid)
        if ev is None or ev.is_set():
            ev = self._changed[eid] = trio.Event()
        return ev

    def _touch(self, eid: str) -> None:
        ev = self._changed.pop(eid, None)
        if ev is not None:
            ev.set()

    def _event_and_touch(self, doc_or_id: dict[str, Any] | str, msg: str,
                         status: str | None = None, **fields: Any) -> dict[str, Any]:
        """Reload the record, apply ``fields``, append an event; never writes a stale copy."""
        eid = doc_or_id if isinstance(doc_or_id, str) else doc_or_id["id"]
        doc = self.records.get(eid)
        doc.update(fields)
        self.records.event(doc, msg, status)
        log.info("deployment %s: %s%s", eid, f"[{status}] " if status else "", msg)
        self._touch(eid)
        return doc

    async def shutdown(self, eid: str) -> dict[str, Any]:
        doc = self.records.get(eid)
        eid = doc["id"]
        for a in (doc.get("allocations") or {}).values():
            lost = str(a.get("reason") or "").startswith("lost")
            if a.get("status") in ENDED and not lost:
                continue
            node = doc["nodes"].get(a["node"])
            if not node:
                continue
            try:
                st = await self.actor.invoke(self._handle(node), wire.ALLOC_STOP,
                                             {"allocation": a["id"]},
                                             timeout=self.settings.call_timeout_s + 10)
                a.update(status=st.get("status", "stopped"), exit_code=st.get("exit_code"))
            except DMSError as exc:
                a.update(status="stopped", reason=f"stop failed: {exc.message}")
        fresh = self.records.get(eid)
        for name, a in (doc.get("allocations") or {}).items():
            fresh["allocations"].setdefault(name, {}).update(
                {k: a[k] for k in ("status", "exit_code", "reason") if k in a})
        self.records.put(fresh)
        return self._event_and_touch(eid, "shut down on request", dep.STOPPED
                                     if fresh["status"] not in (dep.COMPLETED, dep.FAILED) else None)

    async def logs(self, eid: str, allocation: str | None = None) -> dict[str, Any]:
        doc = self.records.get(eid)
        out = {}
        for name, a in (doc.get("allocations") or {}).items():
            if allocation and name != allocation:
                continue
            if a.get("status") in ENDED:
                out[name] = a.get("output") or {}
                continue
            node = doc["nodes"].get(a.get("node", ""))
            try:
                live = await self.actor.invoke(self._handle(node), wire.ALLOC_LOGS,
                                               {"allocation": a["id"]},
                                               timeout=self.settings.call_timeout_s)
                out[name] = live.get("output") or {}
            except (DMSError, TypeError) as exc:
                out[name] = a.get("output") or {"error": str(exc)}
        if allocation and allocation not in out:
            raise NotFound(f"no allocation {allocation!r} in deployment {doc['id']}",
                           hint=f"allocations: {', '.join(doc.get('allocations') or {}) or 'none'}")
        return out

    # -- the flow ----------------------------------------------------------------------
    def _handle(self, node: dict[str, str]) -> Handle:
        return Handle(node["did"], node["peer_id"], ROOT_INBOX)

    async def _deploy(self, eid: str, plan: Any) -> None:
        doc = self.records.get(eid)
        try:
            await self._deploy_inner(doc, plan)
        except Exception as exc:  # a bug must still end the deployment visibly
            found = find_dms_error(exc)
            if found is None:
                log.exception("deployment %s crashed", eid)
                found = DMSError(f"internal error: {exc}", hint="see the node log")
            self._event_and_touch(eid, found.message, dep.FAILED, error=found.to_dict())

    def _request(self, eid: str, plan: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        nodes, reqs = {}, {}
        for name, np in plan.nodes.items():
            req = wire.requirements_from_plan(np)
            reqs[name] = req
            nodes[name] = {"requirements": wire.requirements_to_dict(req),
                           "ports": [{"public": p.public, "private": p.private} for p in np.ports],
                           "peer": np.peer}
        return {"ensemble_id": eid, "request_id": secrets.token_hex(8), "nodes": nodes}, reqs

    async def _deploy_inner(self, doc: dict[str, Any], plan: Any) -> None:
        eid = doc["id"]  # from here on, always reload by id: updates arrive concurrently
        deadline = float(self.records.get(eid)["deadline"])
        request, reqs = self._request(eid, plan)
        pins = {n: np.peer for n, np in plan.nodes.items() if np.peer}
        edges = [EdgeConstraint(e.s, e.t, e.rtt) for e in plan.edge_constraints]
        items = self._items(plan)  # read modules once, before any reservation
        excluded: set[str] = set()
        attempt = 0
        waiting = ""
        while True:
            attempt += 1
            if not waiting:
                self._event_and_touch(eid, f"requesting bids (attempt {attempt})", dep.GENERATING)
            request["request_id"] = secrets.token_hex(8)
            bids, declines = await collect_bids(self.actor, self.network, self.did_of_peer,
                                                request, plan, self.settings.bid_window_s,
                                                ask_self=self.settings.local_bids and self.provides())
            rtts = await measure_rtts(self.actor, bids) if edges else {}
            placement = select(reqs, bids, now=time.time(), exclude=frozenset(excluded),
                               pins=pins, edges=edges, declines=declines, rtt=_oracle(rtts))
            if isinstance(placement, NoPlacement):
                if self.records.get(eid).get("queue") and time.time() + self.settings.retry_pause_s < deadline:
                    why = "waiting for capacity: " + placement.message()
                    if why != waiting:  # say it once, and again only when the reason changes
                        self._event_and_touch(eid, why)
                        waiting = why
                    await trio.sleep(self.settings.retry_pause_s)
                    continue
                queued = bool(self.records.get(eid).get("queue"))
                raise DMSError(placement.message(), code="no_eligible_node",
                               hint=("no capacity freed up before the deadline: raise --timeout, "
                                     "onboard more resources or relax the requirements")
                               if queued else
                               ("onboard more resources, relax the ensemble's requirements, "
                                "or pass --queue to wait for capacity until the deadline"),
                               details={"reasons": {k: list(v) for k, v in placement.reasons.items()}})
            failed = await self._commit_and_allocate(eid, plan, placement, items)
            if failed is None:
                return
            excluded.add(failed)
            if time.time() + self.settings.retry_pause_s >= deadline:
                raise DMSError(f"deployment deadline passed after {attempt} attempts",
                               code="deadline", hint="raise --timeout or add capacity")
            await trio.sleep(min(self.settings.retry_pause_s, 0.1))

    def _items(self, plan: Any) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        for name, np in plan.nodes.items():
            for aname in np.allocations:
                ap = plan.allocations[aname]
                item = {"name": aname, "type": ap.type, "workload": workload_to_dict(ap.workload)}
                if ap.healthcheck is not None:
                    item["healthcheck"] = ap.healthcheck.model_dump(mode="json")
                if ap.inputs or ap.outputs:
                    item["inputs"] = [r.model_dump(mode="json") for r in ap.inputs]
                    item["outputs"] = [r.model_dump(mode="json") for r in ap.outputs]
                if ap.workload.module is not None:
                    item["module_b64"] = _read_module(ap.workload.module)
                out.setdefault(name, []).append(item)
        return out

    async def _commit_and_allocate(self, eid: str, plan: Any, placement: Placement,
                                   items: dict[str, list[dict[str, Any]]]) -> str | None:
        """None on success, else the peer id to exclude next time (after reverting)."""
        doc = self.records.get(eid)
        chosen = {n: {"peer_id": b.peer_id, "did": b.did} for n, b in placement.assignment.items()}
        self._event_and_touch(eid, "committing on " + ", ".join(
            f"{n} -> {c['peer_id'][-8:]}" for n, c in sorted(chosen.items())), dep.COMMITTING)
        committed: list[str] = []
        failure: list[tuple[str, DMSError]] = []

        async def commit(name: str, bid: Bid) -> None:
            try:
                await self._commit(eid, name, plan.nodes[name], bid)
                committed.append(name)
            except DMSError as exc:
                failure.append((name, exc))

        async with trio.open_nursery() as nursery:
            for name, bid in placement.assignment.items():
                nursery.start_soon(commit, name, bid)
        if failure:
            await self._revert(eid, {n: chosen[n] for n in committed})
            name, exc = failure[0]
            self._event_and_touch(eid, f"commit of {name} on {chosen[name]['peer_id'][-8:]} "
                                       f"failed: {exc.message}; reverting and retrying")
            return chosen[name]["peer_id"]

        self._providers[eid] = {c["did"]: n for n, c in chosen.items()}
        self._event_and_touch(eid, "allocating", dep.PROVISIONING, nodes=chosen)
        allocs: dict[str, Any] = {}

        async def allocate(name: str) -> None:
            try:
                r = await self._allocate(eid, name, chosen[name], items[name])
                for aname, info in (r.get("allocations") or {}).items():
                    allocs[aname] = {**info, "node": name, "status": "pending"}
            except DMSError as exc:
                failure.append((name, exc))

        async with trio.open_nursery() as nursery:
            for name in placement.assignment:
                nursery.start_soon(allocate, name)
        doc = self.records.get(eid)
        for aname, info in allocs.items():
            # an update may already have arrived: keep the newer status
            doc["allocations"].setdefault(aname, {}).update(
                {k: v for k, v in info.items() if k != "status" or aname not in doc["allocations"]})
        self.records.put(doc)
        if failure:
            await self._revert(eid, chosen)
            name, exc = failure[0]
            self._providers.pop(eid, None)
            self._event_and_touch(eid, f"allocate of {name} failed: {exc.message}; reverting",
                                  allocations={})
            return chosen[name]["peer_id"]
        doc = self._event_and_touch(eid, "allocations started", dep.RUNNING)
        self._maybe_finish(doc)
        assert self._nursery is not None
        self._nursery.start_soon(self._watch, eid)
        return None

    async def _watch(self, eid: str) -> None:
        """Supervise a running deployment: ask each provider about its live allocations
        every heartbeat; apply what it says (a lost update heals); after ``max_misses``
        unanswered checks, its allocations are failed as lost."""
        misses: dict[str, int] = {}
        unwatched: set[str] = set()  # nodes that refuse the check: rely on their updates
        while True:
            await trio.sleep(self.settings.heartbeat_s)
            doc = self.records.get(eid)
            if doc["status"] in dep.FINAL:
                return
            live = [(n, a) for n, a in (doc.get("allocations") or {}).items()
                    if a.get("status") not in ENDED and a.get("id")]
            for name, a in live:
                node = (doc.get("nodes") or {}).get(a.get("node", ""))
                if not node or a.get("node") in unwatched:
                    continue
                try:
                    rec = await self.actor.invoke(self._handle(node), wire.ALLOC_STATUS,
                                                  {"allocation": a["id"]},
                                                  timeout=min(5.0, self.settings.heartbeat_s * 2))
                    misses[a["node"]] = 0
                    if isinstance(rec, dict) and rec.get("status") != a.get("status"):
                        extra: dict[str, Any] = {}
                        if rec.get("status") in ENDED:  # the update was lost: pull the output
                            with contextlib.suppress(DMSError):
                                extra = await self.actor.invoke(
                                    self._handle(node), wire.ALLOC_LOGS, {"allocation": a["id"]},
                                    timeout=5.0)
                        await self._apply(eid, rec, {"output": extra.get("output") or {}})
                except AuthError as exc:
                    # refused, not lost: the allocation runs; say so once and stop asking
                    unwatched.add(a["node"])
                    self._event_and_touch(eid, f"cannot supervise node {a['node']} "
                                               f"({node['peer_id'][-8:]}): {exc.message}; "
                                               "relying on its updates")
                except NotFound as exc:
                    await self._apply(eid, {**a, "name": name, "ensemble_id": eid,
                                            "status": "failed", "exit_code": None,
                                            "reason": f"lost: {exc.message}"}, {})
                except DMSError as exc:
                    misses[a["node"]] = misses.get(a["node"], 0) + 1
                    if misses[a["node"]] >= self.settings.max_misses:
                        misses[a["node"]] = 0
                        why = f"provider {node['peer_id'][-8:]} unreachable ({exc.message})"
                        if not await self._replace(eid, a["node"], node, why):
                            for n2, a2 in live:  # every live allocation of that node
                                if a2.get("node") == a["node"]:
                                    await self._apply(eid, {**a2, "name": n2, "ensemble_id": eid,
                                                            "status": "failed", "exit_code": None,
                                                            "reason": f"lost: {why}"}, {})
                        break  # the record changed: look again at the next heartbeat

    async def _commit(self, eid: str, name: str, np: Any, bid: Bid) -> None:
        """Reserve ensemble node ``name`` on ``bid``'s provider (with an expiry), granting
        it the right to report updates of this deployment."""
        need = wire.requirements_to_dict(wire.requirements_from_plan(np))
        await self.actor.invoke(self._handle({"did": bid.did, "peer_id": bid.peer_id}),
                                wire.COMMIT, {
                                    "ensemble_id": eid, "node": name,
                                    "resources": need["resources"],
                                    "expiry_s": self.settings.commit_expiry_s,
                                    "grant": self.capctx.grant(bid.did, [wire.UPDATE],
                                                               expiry_s=GRANT_S)},
                                timeout=self.settings.call_timeout_s)

    async def _allocate(self, eid: str, name: str, node: dict[str, str],
                        items: list[dict[str, Any]]) -> Any:
        """Start ensemble node ``name``'s allocations on the provider that committed it."""
        return await self.actor.invoke(self._handle(node), wire.ALLOCATE,
                                       {"ensemble_id": eid, "node": name, "allocations": items},
                                       timeout=self.settings.call_timeout_s)

    async def _replace(self, eid: str, name: str, lost: dict[str, str], why: str) -> bool:
        """Place ensemble node ``name``, whose provider ``lost`` stopped answering, on
        another provider (not one of its other nodes): bid, commit, allocate. True when
        its allocations were started there; False (and an event saying why) otherwise."""
        import dataclasses

        from dms.spec import loads_ensemble, lower

        if not self.settings.replace_lost:
            return False
        doc = self.records.get(eid)
        try:
            plan = lower(loads_ensemble(doc["ensemble"]))
        except DMSError:
            return False
        np = plan.nodes.get(name)
        if np is None or np.peer:
            return False  # pinned to the lost peer: it cannot move
        self._event_and_touch(eid, f"node {name}: {why}; placing it elsewhere")
        sub = dataclasses.replace(plan, nodes={name: np}, edge_constraints=())
        taken = {c["peer_id"] for n, c in (doc.get("nodes") or {}).items() if n != name}
        try:
            items = self._items(sub)
            request, reqs = self._request(eid, sub)
            bids, declines = await collect_bids(
                self.actor, self.network, self.did_of_peer, request, sub,
                self.settings.bid_window_s, ask_self=self.settings.local_bids and self.provides())
            placement = select(reqs, bids, now=time.time(), declines=declines,
                               exclude=frozenset({lost["peer_id"], *taken}))
            if isinstance(placement, NoPlacement):
                raise DMSError(placement.message(), code="no_eligible_node")
            bid = placement.assignment[name]
            new = {"peer_id": bid.peer_id, "did": bid.did}
            await self._commit(eid, name, np, bid)
        except DMSError as exc:
            self._event_and_touch(eid, f"node {name} could not be placed elsewhere: "
                                       f"{exc.message}")
            return False
        # the move is recorded before allocating: the new provider's updates must count,
        # and the lost one's (should it come back) make its workloads stop
        doc = self.records.get(eid)
        doc["nodes"][name] = new
        doc.setdefault("former", {})[lost["did"]] = {"peer_id": lost["peer_id"], "node": name}
        for aname in np.allocations:
            doc["allocations"][aname] = {"node": name, "status": "pending"}
        self.records.put(doc)
        providers = self._providers.setdefault(eid, {})
        if not any(c.get("did") == lost["did"] for c in doc["nodes"].values()):
            providers.pop(lost["did"], None)
        providers[bid.did] = name
        try:
            r = await self._allocate(eid, name, new, items[name])
        except DMSError as exc:
            await self._revert(eid, {name: new})
            self._event_and_touch(eid, f"node {name} could not be allocated on "
                                       f"{bid.peer_id[-8:]}: {exc.message}")
            return False
        doc = self.records.get(eid)
        for aname, info in (r.get("allocations") or {}).items():
            doc["allocations"].setdefault(aname, {}).update(
                {k: v for k, v in info.items() if k != "status"}, node=name)
        self.records.put(doc)
        self._event_and_touch(eid, f"node {name} moved to {bid.peer_id[-8:]}")
        return True

    async def _revert(self, eid: str, nodes: dict[str, dict[str, str]]) -> None:
        async with trio.open_nursery() as nursery:
            for name, c in nodes.items():
                async def revert(name: str = name, c: dict[str, str] = c) -> None:
                    try:
                        await self.actor.invoke(self._handle(c), wire.REVERT,
                                                {"ensemble_id": eid, "node": name}, timeout=5)
                    except DMSError as exc:
                        log.info("revert of %s on %s: %s (its commitment will expire)",
                                 name, c["peer_id"], exc.message)
                nursery.start_soon(revert)

    # -- updates from providers ----------------------------------------------------------
    async def on_update(self, msg: Message) -> Any:
        p = msg.payload if isinstance(msg.payload, dict) else {}
        rec = p.get("allocation")
        if not isinstance(rec, dict) or "ensemble_id" not in rec:
            raise ValidationError("update needs an 'allocation' record")
        eid = rec["ensemble_id"]
        providers = self._providers.get(eid, {})
        if msg.sender.did not in providers:
            former = self._former(eid, msg.sender.did)
            if former is None:
                raise DMSError(f"{msg.sender.did} is not a provider of deployment {eid}",
                               code="unauthorized", hint="only the chosen providers report updates")
            if rec.get("status") not in ENDED and self._nursery is not None:
                # it was given up for lost and its node placed elsewhere: stop it there
                self._nursery.start_soon(self._stop_orphan, eid, rec, former,
                                         "on a provider this deployment moved away from")
            return {"ok": True}
        return await self._apply(eid, rec, p)

    def _former(self, eid: str, did: str) -> dict[str, str] | None:
        try:
            f = (self.records.get(eid).get("former") or {}).get(did)
        except NotFound:
            return None
        return {"did": did, "peer_id": f["peer_id"]} if f else None

    async def _apply(self, eid: str, rec: dict[str, Any], p: dict[str, Any]) -> Any:
        doc = self.records.get(eid)
        a = doc["allocations"].setdefault(rec["name"], {"node": rec.get("node")})
        if a.get("status") in ENDED:
            # an ending is final: late news may only fill in what is missing
            for k in ("output", "results"):
                if k in p and not a.get(k):
                    a[k] = p[k]
            self.records.put(doc)
            if rec["status"] not in ENDED and self._nursery is not None:
                # given up for lost (its provider was away), yet it lives: stop it there,
                # or it would run on with nobody following it
                self._nursery.start_soon(self._stop_orphan, eid, rec)
            return {"ok": True}
        a.update(id=rec["id"], node=rec.get("node"), status=rec["status"],
                 exit_code=rec.get("exit_code"), reason=rec.get("reason"), did=rec.get("did"))
        if "output" in p:
            a["output"] = p["output"]
        if "results" in p:
            a["results"] = p["results"]
        self.records.put(doc)
        doc = self._event_and_touch(eid, f"allocation {rec['name']} {rec['status']}"
                                    + (f" ({rec['reason']})" if rec.get("reason") else ""))
        if rec["status"] == "restarting" and not str(rec.get("reason") or "").startswith(SUPERVISED):
            # in the background: a sibling may not have been reported yet (a workload can
            # fail before the allocate reply that names its siblings arrives here)
            if self._nursery is not None:
                self._nursery.start_soon(self._supervise_logged, eid, rec["name"])
            else:
                await self._supervise(eid, rec["name"])
        self._maybe_finish(doc)
        return {"ok": True}

    async def _stop_orphan(self, eid: str, rec: dict[str, Any],
                           node: dict[str, str] | None = None,
                           why: str = "after it had ended here") -> None:
        """Stop allocation ``rec`` on its provider (``node``, or the one the record
        names): it lives on although this deployment no longer follows it there."""
        if node is None:
            node = (self.records.get(eid).get("nodes") or {}).get(rec.get("node", ""))
        if not node:
            return
        try:
            await self.actor.invoke(self._handle(node), wire.ALLOC_STOP,
                                    {"allocation": rec["id"]}, timeout=self.settings.call_timeout_s)
            self._event_and_touch(eid, f"stopped allocation {rec['name']}: it was reported "
                                       f"{rec['status']} {why}")
        except DMSError as exc:
            self._event_and_touch(eid, f"could not stop allocation {rec['name']}, reported "
                                       f"{rec['status']} {why}: {exc.message}")

    async def _supervise_logged(self, eid: str, failed: str) -> None:
        try:
            await self._supervise(eid, failed)
        except Exception:  # a background task must not take the orchestrator down
            log.exception("deployment %s: supervising after %s failed", eid, failed)

    async def _supervise(self, eid: str, failed: str) -> None:
        """Apply the ensemble's supervisor strategy: the provider restarts the failed
        allocation itself; the others its supervisor names are restarted here."""
        from dms.spec import loads_ensemble

        try:
            sup = loads_ensemble(self.records.get(eid)["ensemble"]).supervisor
        except DMSError:
            return
        for name in also_restart(sup, failed):
            a = await self._known_allocation(eid, name)
            doc = self.records.get(eid)
            node = (doc.get("nodes") or {}).get((a or {}).get("node", ""))
            if a is None or not node or a.get("status") in ENDED:
                continue
            try:
                await self.actor.invoke(self._handle(node), wire.ALLOC_RESTART,
                                        {"allocation": a["id"],
                                         "reason": f"{SUPERVISED} ({failed} failed)"},
                                        timeout=self.settings.call_timeout_s)
            except DMSError as exc:
                self._event_and_touch(doc["id"], f"supervisor could not restart {name}: "
                                                 f"{exc.message}")

    async def _known_allocation(self, eid: str, name: str) -> dict[str, Any] | None:
        """Allocation ``name`` of ``eid`` once its provider has named it (it has an id),
        waiting up to a call timeout; None if it never is or the deployment ended."""
        with trio.move_on_after(self.settings.call_timeout_s):
            while True:
                doc = self.records.get(eid)
                a = (doc.get("allocations") or {}).get(name)
                if a and a.get("id"):
                    return dict(a)
                if doc["status"] in dep.FINAL:
                    return None
                await self._event(eid).wait()
        return None

    def _maybe_finish(self, doc: dict[str, Any]) -> None:
        if doc["status"] != dep.RUNNING:
            return
        allocs = doc.get("allocations") or {}
        try:
            from dms.spec import loads_ensemble

            kinds = {n: str(a.type) for n, a in loads_ensemble(doc["ensemble"]).allocations.items()}
        except DMSError:
            kinds = {}
        tasks = [n for n, k in kinds.items() if k == "task"]
        if not allocs or any(kinds.get(n) == "service" and a.get("status") not in ENDED
                             for n, a in allocs.items()):
            return
        if not all(allocs.get(n, {}).get("status") in ENDED for n in tasks):
            return
        failed = [n for n, a in allocs.items() if a.get("status") == "failed"]
        stopped = [n for n, a in allocs.items() if a.get("status") == "stopped"]
        if stopped and not failed:
            self._event_and_touch(doc, f"allocation(s) stopped: {', '.join(sorted(stopped))}",
                                  dep.STOPPED)
        elif failed:
            self._event_and_touch(doc, f"allocation(s) failed: {', '.join(sorted(failed))}",
                                  dep.FAILED)
        else:
            self._event_and_touch(doc, "all allocations finished", dep.COMPLETED)


def _oracle(rtts: dict[frozenset[str], float]) -> Callable[[str, str], float | None]:
    return lambda a, b: rtts.get(frozenset((a, b)))


def _read_module(path: Path) -> str:
    try:
        return base64.b64encode(Path(path).read_bytes()).decode()
    except OSError as exc:
        raise ValidationError(f"cannot read the WebAssembly module {path}: {exc.strerror}",
                              hint="the module path in the ensemble is read on the deploying "
                                   "machine and shipped with the deployment") from exc
