"""Read the Go DMS spellings of the V1 format (its versions and docs differ).

Applied to the raw document before validation, positions included, so errors still
point into the user's file:

    version: ensembleV1          -> V1 (in the loader)
    edges: [...] (top level)     -> edge_constraints
    {edges: [a, b], symetric}    -> {s: a, t: b}
    dnsname / health_check       -> dns_name / healthcheck
    health_check: <script name>  -> healthcheck: {type: command, script: <name>}
    executor: null               -> noop
    location region              -> continent
    resources: <template name>   -> a copy of top-level resources.<name>
    environment: [K=V, ...]      -> {K: V}   (in the model)
    cachesize, clockspeed (ram), readspeed, writespeed -> model aliases
"""

from __future__ import annotations

import copy
from typing import Any

from dms.spec.errors import SpecError
from dms.spec.yamlpos import Document, Path

__all__ = ["normalize"]


def normalize(doc: Document, data: dict[str, Any]) -> tuple[dict[str, Any], list[SpecError]]:
    errors: list[SpecError] = []
    data = dict(data)
    _rename(doc, data, (), "edges", "edge_constraints")
    for i, edge in enumerate(_list(data.get("edge_constraints"))):
        if isinstance(edge, dict) and isinstance(edge.get("edges"), list) \
                and len(edge["edges"]) == 2 and "s" not in edge and "t" not in edge:
            base = ("edge_constraints", i)
            for j, end in enumerate(("s", "t")):
                _copy_pos(doc, (*base, "edges", j), (*base, end))
                edge[end] = edge["edges"][j]
            del edge["edges"]
            edge.pop("symetric", None)
            edge.pop("symmetric", None)
    templates = data.pop("resources", None) if isinstance(data.get("resources"), dict) else None
    for name, alloc in _map(data.get("allocations")).items():
        if not isinstance(alloc, dict):
            continue
        base = ("allocations", name)
        _rename(doc, alloc, base, "dnsname", "dns_name")
        _rename(doc, alloc, base, "health_check", "healthcheck")
        if isinstance(alloc.get("healthcheck"), str):
            alloc["healthcheck"] = {"type": "command", "script": alloc["healthcheck"]} \
                if alloc["healthcheck"] else None
            if alloc["healthcheck"] is None:
                del alloc["healthcheck"]
        if alloc.get("executor") == "null":
            alloc["executor"] = "noop"
        ref = alloc.get("resources")
        if isinstance(ref, str):
            if templates is not None and isinstance(templates.get(ref), dict):
                body = {k: v for k, v in copy.deepcopy(templates[ref]).items() if k != "name"}
                alloc["resources"] = body
                _copy_pos(doc, ("resources", ref), (*base, "resources"), keep_root=True)
            else:
                errors.append(doc.error(
                    "unknown_reference", (*base, "resources"),
                    f"resources template {ref!r} is not defined",
                    expected="a mapping of resources, or the name of a top-level "
                             "`resources` template",
                    hint=f"define `resources: {{{ref}: {{cpu: ..., ram: ...}}}}` at the top "
                         "level, or write the resources inline"))
    for name, node in _map(data.get("nodes")).items():
        loc = _map(_map(node).get("location"))
        for side in ("accept", "reject"):
            for i, item in enumerate(_list(loc.get(side))):
                if isinstance(item, dict):
                    _rename(doc, item, ("nodes", name, "location", side, i), "region",
                            "continent")
    return data, errors


def _map(x: Any) -> dict[Any, Any]:
    return x if isinstance(x, dict) else {}


def _list(x: Any) -> list[Any]:
    return x if isinstance(x, list) else []


def _rename(doc: Document, obj: dict[str, Any], base: Path, old: str, new: str) -> None:
    if old in obj and new not in obj:
        obj[new] = obj.pop(old)
        _copy_pos(doc, (*base, old), (*base, new))


def _copy_pos(doc: Document, src: Path, dst: Path, keep_root: bool = False) -> None:
    n = len(src)
    for table in (doc.keys, doc.values):
        for path, pos in list(table.items()):
            if path[:n] == src and (path != src or not keep_root):
                table[(*dst, *path[n:])] = pos
