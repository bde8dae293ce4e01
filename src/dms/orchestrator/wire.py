"""Deployment protocol messages (version 1). Add new messages; never change old ones.

    orchestrator                                 provider
      │ /dms/deployment/request  (gossip topic /nunet/deployment, or direct to pins)
      │ ──────────────────────────────────────────▶ check -> bids + declines (reply)
      │ /dms/deployment/commit   {ensemble, node, resources, expiry, grant}
      │ ──────────────────────────────────────────▶ reserve with expiry
      │ /dms/deployment/allocate {ensemble, node, allocations}
      │ ──────────────────────────────────────────▶ allocation actors start
      │ /dms/deployment/revert   {ensemble, node}
      │ ──────────────────────────────────────────▶ release whatever is held
      │ ◀────────────────────────────────────────── /dms/deployment/update {allocation status}
"""

from __future__ import annotations

from typing import Any

from dms.resources.compare import Requirements
from dms.resources.model import GPU, Location, Resources

TOPIC = "/nunet/deployment"
REQUEST = "/dms/deployment/request"
COMMIT = "/dms/deployment/commit"
ALLOCATE = "/dms/deployment/allocate"
REVERT = "/dms/deployment/revert"
UPDATE = "/dms/deployment/update"
EDGE = "/dms/deployment/constraint/edge"

ALLOC_STATUS = "/dms/allocation/status"
ALLOC_LOGS = "/dms/allocation/logs"
ALLOC_STOP = "/dms/allocation/stop"
ALLOC_START = "/dms/allocation/start"
ALLOC_RESTART = "/dms/allocation/restart"
HEALTHCHECK = "/dms/actor/healthcheck"


def requirements_to_dict(r: Requirements) -> dict[str, Any]:
    return {"resources": r.resources.to_dict(), "executors": list(r.executors),
            "locations": [_loc(x) for x in r.locations],
            "exclude_locations": [_loc(x) for x in r.exclude_locations],
            "max_price_per_hour": r.max_price_per_hour}


def requirements_from_dict(d: dict[str, Any]) -> Requirements:
    return Requirements(
        resources=Resources.from_dict(d.get("resources")),
        executors=tuple(d.get("executors") or ()),
        locations=tuple(Location(**x) for x in d.get("locations") or ()),
        exclude_locations=tuple(Location(**x) for x in d.get("exclude_locations") or ()),
        max_price_per_hour=d.get("max_price_per_hour"))


def _loc(x: Location) -> dict[str, Any]:
    return {k: v for k, v in vars(x).items() if v is not None}


def requirements_from_plan(node: Any) -> Requirements:
    """A spec NodePlan -> hard Requirements for bidding."""
    from dms.spec.plan import WORKLOAD_EXECUTOR

    totals = node.resources
    res = Resources.of(totals.cpu_cores, totals.ram_bytes, totals.disk_bytes,
                       tuple(GPU(vendor=g.vendor, model=g.model, vram=g.vram_bytes or 0)
                             for g in totals.gpus))
    # ensemble executor names (qemu, microvm, firecracker, ...) -> registry names
    by_value = {str(k): v for k, v in WORKLOAD_EXECUTOR.items()}
    execs = sorted({by_value.get(str(e), str(e)) for e in node.executors})
    accept: tuple[Location, ...] = ()
    reject: tuple[Location, ...] = ()
    if node.location is not None:
        accept = tuple(Location(**lc.model_dump()) for lc in node.location.accept)
        reject = tuple(Location(**lc.model_dump()) for lc in node.location.reject)
    # executors: every allocation on the node needs its executor -> all are required;
    # Requirements.executors means "any one of", so nodes needing several are checked
    # again by the provider (see provider.check_request).
    return Requirements(resources=res, executors=tuple(execs), locations=accept,
                        exclude_locations=reject)
