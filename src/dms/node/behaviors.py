"""The node's own behaviors (``/dms/node/...``), registered on the node actor.

Each handler takes a verified, authorized :class:`Message` and returns JSON. Blocking
work (benchmarks, hardware probes, docker pings) runs in worker threads.
"""

from __future__ import annotations

import time
from functools import partial
from typing import TYPE_CHECKING, Any

import psutil
import trio

from dms.actor.dispatcher import Message
from dms.errors import ValidationError

if TYPE_CHECKING:
    from dms.node.node import Node

REVOCATION_TOPIC = "/nunet/revocations"
REVOCATION = "/broadcast/revocation"


def _p(msg: Message) -> dict[str, Any]:
    if msg.payload is None:
        return {}
    if not isinstance(msg.payload, dict):
        raise ValidationError("payload must be a JSON object")
    return msg.payload


async def register_node_behaviors(node: Node) -> None:
    a = node.actor
    ob = node.onboarding
    orch = node.orchestrator

    async def status(msg: Message) -> Any:
        return node.status()

    # -- onboarding ---------------------------------------------------------------------
    async def onboard(msg: Message) -> Any:
        p = _p(msg)
        gpus = p.get("gpus")
        shares = [(int(i), s) for i, s in gpus] if gpus is not None else None
        st = await trio.to_thread.run_sync(partial(
            ob.onboard, p.get("cpu"), p.get("ram"), p.get("disk"), shares,
            bool(p.get("no_gpu")), rebenchmark=bool(p.get("rebenchmark"))))
        return st.to_dict()

    async def offboard(msg: Message) -> Any:
        force = bool(_p(msg).get("force"))
        if not force:
            running = [r.record.id for r in node.provider.runtimes.values()
                       if r.record.status not in ("completed", "failed", "stopped")]
            if running:
                from dms.resources.errors import ResourcesInUse

                raise ResourcesInUse(f"{len(running)} allocation(s) still run here: "
                                     f"{', '.join(running[:5])}",
                                     hint="wait for them, or pass --force to stop them")
        dropped = ob.offboard(force=force)
        for rt in list(node.provider.runtimes.values()):
            if f"{rt.record.ensemble_id}/{rt.record.node}" in dropped:
                await rt.stop()
        return {"offboarded": True, "dropped": dropped}

    async def onboarding_status(msg: Message) -> Any:
        return ob.status().to_dict()

    async def benchmark(msg: Message) -> Any:
        r = await trio.to_thread.run_sync(partial(ob.benchmark, force=bool(_p(msg).get("force", True))))
        return r.to_dict()

    # -- resources and hardware ---------------------------------------------------------
    async def res_onboarded(msg: Message) -> Any:
        r = ob.resources.onboarded()
        return r.to_dict() if r is not None else None

    async def res_free(msg: Message) -> Any:
        return ob.resources.free().to_dict()

    async def res_allocated(msg: Message) -> Any:
        snap = ob.resources.snapshot().to_dict()
        return {"allocated": snap.get("allocated"), "committed": snap.get("committed")}

    async def hw_spec(msg: Message) -> Any:
        hw = await trio.to_thread.run_sync(partial(ob.hardware, refresh=bool(_p(msg).get("refresh"))))
        return hw.to_dict()

    async def hw_usage(msg: Message) -> Any:
        def usage() -> dict[str, Any]:
            vm = psutil.virtual_memory()
            du = psutil.disk_usage(str(node.work_dir))
            return {"cpu_percent": psutil.cpu_percent(interval=0.2),
                    "load_avg": list(psutil.getloadavg()),
                    "ram": {"total": vm.total, "used": vm.total - vm.available,
                            "available": vm.available},
                    "disk": {"total": du.total, "used": du.used, "free": du.free}}
        return await trio.to_thread.run_sync(usage)

    # -- deployments (user-facing) ---------------------------------------------------------
    async def dep_new(msg: Message) -> Any:
        p = _p(msg)
        text = p.get("ensemble")
        if not isinstance(text, str) or not text.strip():
            raise ValidationError("deployment/new needs 'ensemble': the ensemble YAML text")
        doc = orch.new(text, timeout=p.get("timeout"), queue=bool(p.get("queue")))
        return _summary(doc)

    async def dep_list(msg: Message) -> Any:
        p = _p(msg)
        docs = orch.records.find(p.get("status"), p.get("limit", 50), int(p.get("offset", 0)))
        return {"deployments": [_summary(d) for d in docs],
                "total": orch.records.count(p.get("status"))}

    async def dep_status(msg: Message) -> Any:
        p = _p(msg)
        eid = str(p.get("id") or "")
        if p.get("wait"):
            full = orch.records.get(eid)["id"]
            await orch.wait(full, since=float(p.get("since") or 0.0),
                            within=min(float(p["wait"]), 300.0))
        return _summary(orch.records.get(eid), events=True)

    async def dep_manifest(msg: Message) -> Any:
        d = orch.records.get(str(_p(msg).get("id") or ""))
        return {"id": d["id"], "status": d["status"], "nodes": d.get("nodes"),
                "allocations": {n: {k: v for k, v in a.items() if k not in ("output", "results")}
                                for n, a in (d.get("allocations") or {}).items()},
                "ensemble": d.get("ensemble")}

    async def dep_logs(msg: Message) -> Any:
        p = _p(msg)
        return await orch.logs(str(p.get("id") or ""), p.get("allocation"))

    async def dep_results(msg: Message) -> Any:
        d = orch.records.get(str(_p(msg).get("id") or ""))
        return {n: a.get("results") or {} for n, a in (d.get("allocations") or {}).items()}

    async def dep_shutdown(msg: Message) -> Any:
        return _summary(await orch.shutdown(str(_p(msg).get("id") or "")))

    async def dep_prune(msg: Message) -> Any:
        p = _p(msg)
        before = p.get("before")
        if not p.get("all") and before is None:
            raise ValidationError("prune needs a cut-off or everything",
                                  hint="dms deployment prune --all, or --before 24h")
        return {"pruned": orch.records.prune(float(before) if before is not None else None)}

    async def dep_delete(msg: Message) -> Any:
        d = orch.records.get(str(_p(msg).get("id") or ""))
        return {"deleted": orch.records.delete(d["id"])}

    async def allocations_list(msg: Message) -> Any:
        return {"allocations": [rt.status() for rt in node.provider.runtimes.values()]}

    # -- deployment protocol helpers -----------------------------------------------------
    async def edge(msg: Message) -> Any:
        peer = str(_p(msg).get("peer") or "")
        rtts = await node.network.ping(peer, count=3)
        values = [r for r in (rtts if isinstance(rtts, list) else [rtts]) if r is not None]
        if not values:
            raise ValidationError(f"no ping answer from {peer}")
        return {"peer": peer, "rtt_ms": min(float(v) for v in values)}

    # -- capabilities --------------------------------------------------------------------
    async def cap_list(msg: Message) -> Any:
        return {"did": node.capctx.did,
                "anchors": [vars(x) for x in node.capctx.list_anchors()],
                "revocations": [r.to_dict() for r in node.capctx.revocations()]}

    async def on_revocation(msg: Message) -> Any:
        applied = node.capctx.apply_revocation(_p(msg))
        return {"applied": applied}

    async def cap_revoke(msg: Message) -> Any:
        """Revoke ``token`` with the node's key, or apply and spread an already signed
        ``record`` (e.g. from the user context); either way every peer hears of it."""
        p = _p(msg)
        if isinstance(p.get("record"), dict):
            node.capctx.apply_revocation(p["record"])
            rec = p["record"]
        else:
            rec = node.capctx.revoke(str(p.get("token") or "")).to_dict()
        await a.broadcast(REVOCATION_TOPIC, REVOCATION, rec)
        return rec

    async def logger_config(msg: Message) -> Any:
        """The node's log level; ``{"level": "debug"}`` changes it until the node stops
        (the lasting setting is ``log.level`` in the config)."""
        from dms.telemetry import logs

        level = _p(msg).get("level")
        if level is not None:
            try:
                logs.set_level(str(level))
            except ValueError as exc:
                raise ValidationError(str(exc), hint="dms log-level debug|info|warning|error") from exc
        return {"level": logs.current_level()}

    async def hello(msg: Message) -> Any:
        from dms.actor.behaviors import hello_all

        window = float(_p(msg).get("window") or 1.0)
        return await hello_all(a, window=min(window, 30.0))

    table = {
        "/dms/node/status": status,
        "/dms/node/onboarding/onboard": onboard,
        "/dms/node/onboarding/offboard": offboard,
        "/dms/node/onboarding/status": onboarding_status,
        "/dms/node/onboarding/benchmark": benchmark,
        "/dms/node/resources/onboarded": res_onboarded,
        "/dms/node/resources/free": res_free,
        "/dms/node/resources/allocated": res_allocated,
        "/dms/node/hardware/spec": hw_spec,
        "/dms/node/hardware/usage": hw_usage,
        "/dms/node/deployment/new": dep_new,
        "/dms/node/deployment/list": dep_list,
        "/dms/node/deployment/status": dep_status,
        "/dms/node/deployment/manifest": dep_manifest,
        "/dms/node/deployment/logs": dep_logs,
        "/dms/node/deployment/shutdown": dep_shutdown,
        "/dms/node/deployment/results": dep_results,
        "/dms/node/deployment/prune": dep_prune,
        "/dms/node/deployment/delete": dep_delete,
        "/dms/node/allocations/list": allocations_list,
        "/dms/deployment/constraint/edge": edge,
        "/dms/cap/list": cap_list,
        "/dms/cap/revoke": cap_revoke,
        "/dms/node/hello": hello,
        "/dms/node/logger/config": logger_config,
    }
    for behavior, handler in table.items():
        a.register(behavior, handler)
    # revocation records are self-authenticating (signed by the token's issuer)
    a.register(REVOCATION, on_revocation, public=True)
    await a.subscribe(REVOCATION_TOPIC)


def _summary(d: dict[str, Any], events: bool = False) -> dict[str, Any]:
    out = {"id": d["id"], "status": d["status"], "created": d["created"],
           "updated": d["updated"], "error": d.get("error"),
           "nodes": {n: c.get("peer_id") for n, c in (d.get("nodes") or {}).items()},
           "allocations": {n: {k: a.get(k) for k in ("status", "exit_code", "reason", "node")}
                           for n, a in (d.get("allocations") or {}).items()},
           "age_s": round(time.time() - d["created"], 3)}
    if events:
        out["events"] = d.get("events", [])
    return out
