"""The orchestrator's I/O shell against a recording actor: orders of events that real
daemons produce only now and then."""

from __future__ import annotations

import time
from typing import Any

import pytest
import trio

from dms.orchestrator import deployments as dep
from dms.orchestrator import wire
from dms.orchestrator.orchestrator import SUPERVISED, Orchestrator
from dms.store.memory import MemoryStore

pytestmark = pytest.mark.unit

ENSEMBLE = """version: V1
allocations:
  db: {type: service, executor: docker, execution: {type: docker, image: x}}
  api: {type: service, executor: docker, execution: {type: docker, image: x}}
nodes:
  n1: {allocations: [db, api]}
supervisor: {strategy: AllForOne, allocations: [db, api]}
"""
NODE = {"peer_id": "12D3KooWprovider", "did": "did:key:zprovider"}


class RecordingActor:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.called = trio.Event()

    def register(self, *_: Any) -> None:
        pass

    async def invoke(self, to: Any, behavior: str, payload: dict[str, Any], **_: Any) -> Any:
        self.calls.append((behavior, payload))
        self.called.set()
        return {"ok": True}


async def test_a_sibling_named_after_the_failure_is_still_restarted() -> None:
    """A workload may crash before the allocate reply naming its siblings reaches the
    orchestrator (a CI run caught exactly that): the supervisor waits for the name."""
    actor = RecordingActor()
    orch = Orchestrator(actor=actor, network=None, capctx=None, store=MemoryStore())
    async with trio.open_nursery() as nursery:
        await nursery.start(orch.serve)
        eid = "e1"
        orch.records.create(eid, ENSEMBLE, {"deadline": time.time() + 60})
        doc = orch.records.get(eid)
        doc.update(status=dep.PROVISIONING, nodes={"n1": NODE})
        orch.records.put(doc)
        # db fails before the allocate reply gave the orchestrator api's id
        await orch._apply(eid, {"ensemble_id": eid, "name": "db", "id": "db-1", "node": "n1",
                                "status": "restarting", "reason": "exited 1"}, {})
        await trio.sleep(0.05)
        assert actor.calls == []  # nothing to restart yet: api is not known
        doc = orch.records.get(eid)
        doc["allocations"]["api"] = {"id": "api-1", "node": "n1", "status": "pending"}
        orch.records.put(doc)
        orch._event_and_touch(eid, "allocations started", dep.RUNNING)
        with trio.fail_after(5):
            await actor.called.wait()
        nursery.cancel_scope.cancel()
    assert actor.calls == [(wire.ALLOC_RESTART,
                            {"allocation": "api-1", "reason": f"{SUPERVISED} (db failed)"})]


async def test_a_restart_mid_deployment_reverts_the_chosen_providers() -> None:
    """The orchestrating node restarted while allocating: the deployment fails, and the
    providers chosen before are told to stop and release what they hold for it."""
    store = MemoryStore()
    before = Orchestrator(actor=RecordingActor(), network=None, capctx=None, store=store)
    before.records.create("e2", ENSEMBLE, {"deadline": time.time() + 60})
    doc = before.records.get("e2")
    doc.update(status=dep.PROVISIONING, nodes={"n1": NODE})
    before.records.put(doc)

    actor = RecordingActor()
    orch = Orchestrator(actor=actor, network=None, capctx=None, store=store)
    async with trio.open_nursery() as nursery:
        await nursery.start(orch.serve)
        with trio.fail_after(5):
            await actor.called.wait()
        nursery.cancel_scope.cancel()
    assert actor.calls == [(wire.REVERT, {"ensemble_id": "e2", "node": "n1"})]
    doc = orch.records.get("e2")
    assert doc["status"] == dep.FAILED
    assert doc["events"][-1]["msg"] == "the orchestrating node restarted during deployment"
