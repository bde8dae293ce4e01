"""Canonical YAML for an ensemble: fixed key order, defaults left out, human units.

``loads_ensemble(dump_ensemble(e)) == e`` for every valid ensemble (property-tested).
"""

from __future__ import annotations

import io
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.scalarstring import LiteralScalarString

from dms.spec.models import Ensemble, Supervisor

__all__ = ["dump_ensemble", "ensemble_to_data", "dump_yaml"]


def ensemble_to_data(ensemble: Ensemble) -> dict[str, Any]:
    """Plain data (JSON-able): sizes as ``1GiB``, durations as ``30s``, defaults dropped."""
    body = ensemble.model_dump(mode="json", exclude_defaults=True, by_alias=True)
    body.pop("version", None)
    # `allocations` and `nodes` are required even when empty
    body.setdefault("allocations", {})
    body.setdefault("nodes", {})
    data: dict[str, Any] = {"version": ensemble.version}
    for key in ("allocations", "nodes"):
        data[key] = body.pop(key)
    data.update(body)
    # spell out the two defaults people look for when reading a file
    for name, alloc in data["allocations"].items():
        data["allocations"][name] = {"type": ensemble.allocations[name].type, **alloc}
    for node in data["nodes"].values():
        for port in node.get("ports", []):
            port.setdefault("public", 0)
            port["public"] = port.pop("public")
            ordered = {k: port[k] for k in ("public", "private", "allocation")}
            port.clear()
            port.update(ordered)
    if ensemble.supervisor is not None:
        _strategy_first(data["supervisor"], ensemble.supervisor)
    return data


def _strategy_first(node: dict[str, Any], sup: Supervisor) -> None:
    rest = dict(node)
    node.clear()
    node["strategy"] = sup.strategy.value
    rest.pop("strategy", None)
    node.update(rest)
    for child_data, child in zip(node.get("children", []), sup.children, strict=True):
        _strategy_first(child_data, child)


def _literal(data: Any) -> Any:
    """Multi-line strings (scripts) as ``|`` blocks, the way people write them."""
    if isinstance(data, dict):
        return {k: _literal(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_literal(v) for v in data]
    if isinstance(data, str) and "\n" in data.rstrip("\n") and data.endswith("\n") \
            and not any(line != line.rstrip() for line in data.splitlines()):
        return LiteralScalarString(data)
    return data


def dump_yaml(data: Any) -> str:
    data = _literal(data)
    y = YAML(typ="rt")
    y.default_flow_style = False
    y.indent(mapping=2, sequence=4, offset=2)
    y.width = 4096
    out = io.StringIO()
    y.dump(data, out)
    return out.getvalue()


def dump_ensemble(ensemble: Ensemble) -> str:
    return dump_yaml(ensemble_to_data(ensemble))
