"""Bring the three Nomad jobspec shapes to one: plain nested dicts with HCL names.

- HCL2 parsed by python-hcl2 (blocks come as lists of ``{label: body}``, strings may
  keep ``${...}``),
- HCL in its JSON syntax (``{"job": {"web": {"group": {...}}}}``),
- the API form (``{"Job": {"TaskGroups": [...]}}``, as ``nomad job run -output`` prints).

Result: ``{"name", "type", ..., "group": [{"name", ..., "task": [{"name", ...}]}]}``;
labeled blocks become lists of bodies with a ``name`` key; unlabeled blocks lists of bodies.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["LABELED", "from_api", "from_hcl", "strip_interp", "unquote"]

#: Nomad block types that take a label
LABELED = {"job", "group", "task", "port", "device", "volume", "dispatch_payload"}
_INTERP = re.compile(r"^\$\{(.*)\}$")


def unquote(v: Any) -> Any:
    """Drop the quotes python-hcl2 may keep around strings; ``${...}`` stays as written."""
    if isinstance(v, str) and len(v) >= 2 and v[0] == v[-1] == '"':
        return v[1:-1]
    return v


def strip_interp(v: Any) -> Any:
    """A constraint attribute: ``"${attr.cpu.arch}"`` -> ``"attr.cpu.arch"``."""
    v = unquote(v)
    if isinstance(v, str):
        m = _INTERP.match(v)
        return m.group(1) if m else v
    return v


def _as_list(v: Any) -> list[Any]:
    return v if isinstance(v, list) else [v]


def from_hcl(data: Any) -> dict[str, Any]:
    """The first job of a parsed HCL (python-hcl2 or HCL-JSON) document."""
    jobs = _labeled(data.get("job")) if isinstance(data, dict) else []
    if not jobs:
        raise ValueError("no `job` block found")
    return jobs[0]


def _labeled(value: Any) -> list[dict[str, Any]]:
    out = []
    for item in _as_list(value):
        if not isinstance(item, dict):
            continue
        for label, body in item.items():
            for b in _as_list(body):
                if isinstance(b, dict):
                    out.append({"name": unquote(label), **_body(b)})
    return out


def _body(body: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in body.items():
        if key.startswith("__"):
            continue
        if key in LABELED:
            out[key] = _labeled(value)
        elif isinstance(value, list) and value and all(isinstance(x, dict) for x in value):
            out[key] = [_body(x) for x in value]
        elif isinstance(value, dict) and key not in ("env", "meta", "config"):
            out[key] = [_body(value)]
        elif isinstance(value, dict):
            out[key] = [_body(value)] if key != "env" else [_plain(value)]
        else:
            out[key] = _plain(value)
    return out


def _plain(v: Any) -> Any:
    if isinstance(v, dict):
        return {unquote(k): _plain(x) for k, x in v.items() if not str(k).startswith("__")}
    if isinstance(v, list):
        return [_plain(x) for x in v]
    return unquote(v)


def _snake(name: str) -> str:
    special = {"MemoryMB": "memory", "MemoryMaxMB": "memory_max", "CPU": "cpu",
               "SizeMB": "size", "LTarget": "attribute", "RTarget": "value",
               "Operand": "operator", "ID": "id", "Env": "env", "Config": "config",
               "Meta": "meta"}
    if name in special:
        return special[name]
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def from_api(job: dict[str, Any]) -> dict[str, Any]:
    """API-form job (``{"ID":..., "TaskGroups": [...]}``) in the HCL shape."""
    out: dict[str, Any] = {}
    for key, value in job.items():
        if value is None:
            continue
        if key == "TaskGroups":
            out["group"] = [_api_group(g) for g in value]
        elif key == "Constraints":
            out["constraint"] = [_api_obj(c) for c in value]
        elif key in ("Meta", "Datacenters", "Region", "Type", "Name", "ID"):
            out[_snake(key)] = value
        else:
            out[_snake(key)] = _api_obj(value) if isinstance(value, dict) else value
    out.setdefault("name", job.get("ID", "job"))
    return out


def _api_group(g: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in g.items():
        if value is None:
            continue
        if key == "Tasks":
            out["task"] = [_api_task(t) for t in value]
        elif key == "Networks":
            out["network"] = [_api_network(n) for n in value]
        elif key == "Constraints":
            out["constraint"] = [_api_obj(c) for c in value]
        elif key == "RestartPolicy":
            out["restart"] = [_api_obj(value)]
        elif key == "EphemeralDisk":
            out["ephemeral_disk"] = [_api_obj(value)]
        else:
            out[_snake(key)] = [_api_obj(value)] if isinstance(value, dict) else value
    return out


def _api_network(n: dict[str, Any]) -> dict[str, Any]:
    ports = []
    for kind in ("ReservedPorts", "DynamicPorts"):
        for p in n.get(kind) or []:
            port: dict[str, Any] = {"name": p.get("Label")}
            if kind == "ReservedPorts" and p.get("Value"):
                port["static"] = p["Value"]
            if p.get("To"):
                port["to"] = p["To"]
            ports.append(port)
    out: dict[str, Any] = {"port": ports}
    if n.get("Mode"):
        out["mode"] = n["Mode"]
    return out


def _api_task(t: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in t.items():
        if value is None:
            continue
        if key == "Config":
            out["config"] = [value]
        elif key == "Env":
            out["env"] = [value]
        elif key == "Resources":
            res = {_snake(k): v for k, v in value.items() if v and k != "Devices"}
            if value.get("Devices"):
                res["device"] = [{"name": dv.get("Name"), "count": dv.get("Count", 1)}
                                 for dv in value["Devices"]]
            out["resources"] = [res]
        elif key == "Services":
            out["service"] = [_api_obj(s) for s in value]
        elif key == "Constraints":
            out["constraint"] = [_api_obj(c) for c in value]
        else:
            out[_snake(key)] = [_api_obj(value)] if isinstance(value, dict) else value
    return out


def _api_obj(v: Any) -> Any:
    if isinstance(v, dict):
        out = {}
        for k, x in v.items():
            if x is None:
                continue
            key = _snake(k)
            if k == "Checks":
                key = "check"
            out[key] = _api_obj(x)
        return out
    if isinstance(v, list):
        return [_api_obj(x) for x in v]
    return v
