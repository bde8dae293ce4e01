"""Cross-field rules of an ensemble, checked on the raw document.

Working on the raw data (not the models) lets ``dms validate`` report these together
with type errors: every rule tolerates missing or badly typed parts and skips them.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from dms.spec.errors import SpecError
from dms.spec.models import EXECUTOR_FIELDS, REQUIRED_FIELDS, Executor
from dms.spec.structure import suggest
from dms.spec.yamlpos import Document

__all__ = ["check"]


def _map(x: Any) -> dict[Any, Any]:
    return x if isinstance(x, dict) else {}


def _list(x: Any) -> list[Any]:
    return x if isinstance(x, list) else []


def _did_you_mean(name: Any, options: list[str], what: str) -> str:
    best = suggest(str(name), options) if isinstance(name, str) else None
    if best:
        return f"did you mean '{best}'?"
    return f"define it under `{what}` or use one of: {', '.join(options) or '(none defined)'}"


def check(doc: Document, data: dict[str, Any]) -> list[SpecError]:
    errors: list[SpecError] = []
    errors += _placement(doc, data)
    errors += _ports(doc, data)
    for name, alloc in _map(data.get("allocations")).items():
        errors += _allocation(doc, data, str(name), _map(alloc))
    errors += _supervisor(doc, data)
    errors += _edges(doc, data)
    return errors


def _placement(doc: Document, data: dict[str, Any]) -> list[SpecError]:
    errors = []
    allocs = [str(a) for a in _map(data.get("allocations"))]
    seen: dict[str, str] = {}
    for node, spec in _map(data.get("nodes")).items():
        for i, ref in enumerate(_list(_map(spec).get("allocations"))):
            path = ("nodes", node, "allocations", i)
            if not isinstance(ref, str):
                continue
            if ref not in allocs:
                errors.append(doc.error(
                    "unknown_allocation", path,
                    f"node '{node}' names allocation '{ref}', which is not defined",
                    expected="the name of an allocation under `allocations`",
                    hint=_did_you_mean(ref, allocs, "allocations")))
            elif ref in seen:
                where = "twice on this node" if seen[ref] == node else \
                    f"on node '{seen[ref]}' and on node '{node}'"
                errors.append(doc.error(
                    "placed_twice", path, f"allocation '{ref}' is placed {where}",
                    expected="each allocation on exactly one node",
                    hint=f"remove '{ref}' from one of the nodes (use `redundancy` on the node "
                         "for copies, or define a second allocation)"))
            else:
                seen[ref] = node
    if isinstance(data.get("nodes"), dict):
        for name in allocs:
            if name not in seen:
                errors.append(doc.error(
                    "unplaced_allocation", ("allocations", name),
                    f"allocation '{name}' is not placed on any node",
                    expected="each allocation listed under exactly one node's `allocations`",
                    hint=f"add '{name}' to the `allocations` list of a node under `nodes`",
                    key=True))
    return errors


def _ports(doc: Document, data: dict[str, Any]) -> list[SpecError]:
    errors = []
    for node, spec in _map(data.get("nodes")).items():
        on_node = [a for a in _list(_map(spec).get("allocations")) if isinstance(a, str)]
        publics: dict[int, int] = {}
        privates: dict[tuple[str, int], int] = {}
        for i, port in enumerate(_list(_map(spec).get("ports"))):
            port = _map(port)
            path = ("nodes", node, "ports", i)
            pub, priv, alloc = port.get("public", 0), port.get("private"), port.get("allocation")
            if isinstance(alloc, str) and alloc not in on_node:
                errors.append(doc.error(
                    "unknown_allocation", (*path, "allocation"),
                    f"port names allocation '{alloc}', which is not on node '{node}'",
                    expected=f"one of this node's allocations: {', '.join(on_node) or '(none)'}",
                    hint=f"add '{alloc}' to nodes.{node}.allocations or fix the name"))
            if isinstance(pub, int) and pub != 0:
                if pub in publics:
                    errors.append(doc.error(
                        "duplicate_port", (*path, "public"),
                        f"public port {pub} is used twice on node '{node}' "
                        f"(first at ports[{publics[pub]}])",
                        expected="distinct public ports per node (0 = any free port)",
                        hint="pick another public port, or 0 to let the provider choose"))
                else:
                    publics[pub] = i
            if isinstance(priv, int) and isinstance(alloc, str):
                if (alloc, priv) in privates:
                    errors.append(doc.error(
                        "duplicate_port", (*path, "private"),
                        f"private port {priv} of allocation '{alloc}' is mapped twice "
                        f"(first at ports[{privates[(alloc, priv)]}])",
                        expected="each private port of an allocation mapped once",
                        hint="remove the duplicate entry"))
                else:
                    privates[(alloc, priv)] = i
    return errors


def _allocation(doc: Document, data: dict[str, Any], name: str,
                alloc: dict[str, Any]) -> list[SpecError]:
    errors = []
    base = ("allocations", name)
    try:
        executor = Executor(str(alloc.get("executor")))
    except ValueError:
        executor = None
    execution = _map(alloc.get("execution"))
    if executor is not None:
        given = execution.get("type")
        if given is not None and given != executor.value:
            errors.append(doc.error(
                "executor_mismatch", (*base, "execution", "type"),
                f"execution.type '{given}' does not match executor '{executor.value}'",
                expected=f"'{executor.value}' (or leave it out)",
                hint="make `execution.type` equal to `executor`, or drop it"))
        for field in REQUIRED_FIELDS[executor]:
            if not execution.get(field):
                errors.append(doc.error(
                    "missing_field", (*base, "execution", field),
                    f"a {executor.value} allocation needs execution.{field}",
                    expected=f"`{field}` under allocations.{name}.execution",
                    hint=_required_hint(executor, field)))
        allowed = EXECUTOR_FIELDS[executor]
        for field in execution:
            if field != "type" and field in _ALL_EXEC and field not in allowed:
                errors.append(doc.error(
                    "field_not_applicable", (*base, "execution", field),
                    f"execution.{field} is not used by the {executor.value} executor",
                    expected="one of: " + ", ".join(sorted(allowed)),
                    hint=f"remove it, or change `executor` to one that reads `{field}`",
                    key=True))
    res = _map(alloc.get("resources"))
    sized: list[tuple[tuple[str | int, ...], Any]] = [
        (("ram", "size"), _map(res.get("ram")).get("size")),
        (("disk", "size"), _map(res.get("disk")).get("size"))]
    sized += [(("gpus", i, "vram"), _map(g).get("vram")) for i, g in enumerate(_list(
        res.get("gpus")))]
    for sub, value in sized:
        if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**20:
            errors.append(doc.error(
                "implausible_size", (*base, "resources", *sub),
                f"{value} is read as {value} bytes (plain numbers are bytes), too small to "
                "be meant", expected="a size with a unit, e.g. 512MiB or 4GiB",
                hint=f"write `{value}MiB` if you meant megabytes (Go DMS files often give MB)"))
    hc = _map(alloc.get("healthcheck"))
    if hc.get("type") == "command" and not hc.get("exec") and not hc.get("script"):
        errors.append(doc.error(
            "missing_field", (*base, "healthcheck", "exec"),
            "a command health check needs `exec` (or `script`)",
            expected="a list such as [curl, -f, ...], or the name of a top-level script",
            hint="add `exec: [...]`, or use `type: http` with an `endpoint`"))
    script = hc.get("script")
    scripts = [str(k) for k in _map(data.get("scripts"))]
    if isinstance(script, str) and script not in scripts:
        errors.append(doc.error(
            "unknown_reference", (*base, "healthcheck", "script"),
            f"'{script}' is not defined under top-level `scripts`",
            expected="a name under `scripts`", hint=_did_you_mean(script, scripts, "scripts")))
    if hc.get("type") == "http" and not hc.get("endpoint"):
        errors.append(doc.error(
            "missing_field", (*base, "healthcheck", "endpoint"),
            "an http health check needs `endpoint`", expected="a URL such as http://localhost/health",
            hint="add `endpoint: ...`"))
    for field, top in (("keys", "keys"), ("provision", "scripts")):
        defined = [str(k) for k in _map(data.get(top))]
        for i, ref in enumerate(_list(alloc.get(field))):
            if isinstance(ref, str) and ref not in defined:
                errors.append(doc.error(
                    "unknown_reference", (*base, field, i),
                    f"'{ref}' is not defined under top-level `{top}`",
                    expected=f"a name under `{top}`", hint=_did_you_mean(ref, defined, top)))
    return errors


_ALL_EXEC = frozenset().union(*EXECUTOR_FIELDS.values())


def _required_hint(executor: Executor, field: str) -> str:
    examples = {"image": "image: nginx:1.25", "kernel_image": "kernel_image: /path/to/vmlinux",
                "module": "module: /path/to/app.wasm"}
    return f"add `{examples.get(field, field + ': ...')}` under execution"


def _supervisor(doc: Document, data: dict[str, Any]) -> list[SpecError]:
    errors = []
    for path in doc.cycles:
        if path and path[0] == "supervisor":
            errors.append(doc.error(
                "supervisor_cycle", path,
                "the supervisor tree contains itself (a YAML alias points back to an ancestor)",
                expected="a tree: each supervisor's children are new supervisors",
                hint="replace the alias with a new child supervisor"))
    allocs = [str(a) for a in _map(data.get("allocations"))]
    seen: Counter[str] = Counter()

    def walk(sup: Any, path: tuple[Any, ...]) -> None:
        sup = _map(sup)
        for i, ref in enumerate(_list(sup.get("allocations"))):
            if not isinstance(ref, str):
                continue
            p = (*path, "allocations", i)
            if ref not in allocs:
                errors.append(doc.error(
                    "unknown_allocation", p,
                    f"supervisor names allocation '{ref}', which is not defined",
                    expected="the name of an allocation under `allocations`",
                    hint=_did_you_mean(ref, allocs, "allocations")))
            elif seen[ref]:
                errors.append(doc.error(
                    "supervisor_cycle", p,
                    f"allocation '{ref}' appears twice in the supervisor tree, so a restart "
                    "would loop between its supervisors",
                    expected="each allocation under one supervisor",
                    hint=f"keep '{ref}' under one supervisor only"))
            seen[ref] += 1
        for i, child in enumerate(_list(sup.get("children"))):
            walk(child, (*path, "children", i))

    walk(data.get("supervisor"), ("supervisor",))
    return errors


def _edges(doc: Document, data: dict[str, Any]) -> list[SpecError]:
    errors = []
    nodes = [str(n) for n in _map(data.get("nodes"))]
    for i, edge in enumerate(_list(data.get("edge_constraints"))):
        edge = _map(edge)
        for end in ("s", "t"):
            ref = edge.get(end)
            if isinstance(ref, str) and ref not in nodes:
                errors.append(doc.error(
                    "unknown_node", ("edge_constraints", i, end),
                    f"edge constraint names node '{ref}', which is not defined",
                    expected="the name of a node under `nodes`",
                    hint=_did_you_mean(ref, nodes, "nodes")))
        if isinstance(edge.get("s"), str) and edge.get("s") == edge.get("t"):
            errors.append(doc.error(
                "self_edge", ("edge_constraints", i),
                f"edge constraint joins node '{edge['s']}' to itself",
                expected="two different nodes", hint="set `t` to another node"))
    return errors
