"""Deployment records: what the orchestrating node remembers of each ensemble it deployed.

Stored in the collection ``deployments`` so history, status, manifests and the output
of finished allocations survive a restart of the node.
"""

from __future__ import annotations

import time
from typing import Any

from dms.errors import NotFound
from dms.store.contract import Cond, Query, Store

Doc = dict[str, Any]

COLLECTION = "deployments"

PREPARING, GENERATING, COMMITTING = "Preparing", "Generating", "Committing"
PROVISIONING, RUNNING, COMPLETED, FAILED = "Provisioning", "Running", "Completed", "Failed"
STOPPED = "Stopped"
FINAL = frozenset({COMPLETED, FAILED, STOPPED})
STATUSES = (PREPARING, GENERATING, COMMITTING, PROVISIONING, RUNNING, COMPLETED, FAILED,
            STOPPED)


class Deployments:
    def __init__(self, store: Store) -> None:
        self.coll = store.collection(COLLECTION)
        self.coll.ensure_index("status")
        self.coll.ensure_index("created")

    def create(self, id: str, ensemble_yaml: str, meta: dict[str, Any]) -> dict[str, Any]:
        now = time.time()
        doc = {"id": id, "status": PREPARING, "created": now, "updated": now,
               "ensemble": ensemble_yaml, "nodes": {}, "allocations": {}, "error": None,
               "events": [{"t": now, "status": PREPARING, "msg": "deployment created"}], **meta}
        self.coll.put(id, doc)
        return doc

    def get(self, id: str) -> dict[str, Any]:
        doc = self.coll.get(id)
        if doc is None:
            matches = [i for i, _ in self.coll.query(Query(Cond("id", "LIKE", id + "%"),
                                                           limit=2))]
            if len(matches) == 1:
                doc = self.coll.get(matches[0])
        if doc is None:
            raise NotFound(f"no deployment {id!r}",
                           hint="list them with `dms deployment list`")
        return doc

    def put(self, doc: dict[str, Any]) -> None:
        doc["updated"] = time.time()
        self.coll.put(doc["id"], doc)

    def event(self, doc: dict[str, Any], msg: str, status: str | None = None) -> None:
        if status:
            doc["status"] = status
        doc["events"].append({"t": time.time(), "status": doc["status"], "msg": msg})
        self.put(doc)

    def find(self, status: str | None = None, limit: int | None = 50, offset: int = 0
             ) -> list[Doc]:
        q = Query(Cond("status", "EQ", status) if status else None, sort=(("created", "desc"),),
                  limit=limit, offset=offset)
        return [d for _, d in self.coll.query(q)]

    def count(self, status: str | None = None) -> int:
        return self.coll.count(Cond("status", "EQ", status) if status else None)

    def delete(self, id: str) -> bool:
        return self.coll.delete(id)

    def prune(self, before: float | None = None) -> list[str]:
        """Delete finished deployments (created before ``before`` when given)."""
        gone = []
        for id_, d in self.coll.query():
            if d.get("status") in FINAL and (before is None or d.get("created", 0) < before):
                self.coll.delete(id_)
                gone.append(id_)
        return gone
