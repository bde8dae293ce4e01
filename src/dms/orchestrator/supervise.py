"""Supervisor strategies of an ensemble (pure).

    supervisor: {strategy, allocations: [a, b], children: [sub-supervisors]}

A supervisor's children, in order, are its allocations then its sub-supervisors. When
an allocation fails, the supervisor that lists it applies its strategy:

    OneForOne   restart only the failed allocation
    AllForOne   restart every allocation under that supervisor
    RestForOne  restart the failed one and every child after it

The failed allocation itself is restarted by its provider; :func:`also_restart` names
the others. (Escalation to a parent when restarts run out is not implemented.)
"""

from __future__ import annotations

from typing import Any

ONE_FOR_ONE, ALL_FOR_ONE, REST_FOR_ONE = "OneForOne", "AllForOne", "RestForOne"


def _all(sup: Any) -> list[str]:
    out = list(sup.allocations)
    for child in sup.children:
        out.extend(_all(child))
    return out


def also_restart(sup: Any | None, failed: str) -> list[str]:
    """Allocations to restart along with ``failed`` (which is not included)."""
    if sup is None:
        return []
    units: list[tuple[str, Any]] = [("alloc", a) for a in sup.allocations] + \
        [("sup", c) for c in sup.children]
    for i, (kind, unit) in enumerate(units):
        if kind == "sup" and failed in _all(unit):
            return also_restart(unit, failed)  # the nearest supervisor decides
        if kind == "alloc" and unit == failed:
            strategy = str(getattr(sup.strategy, "value", sup.strategy))
            if strategy == ALL_FOR_ONE:
                chosen = units
            elif strategy == REST_FOR_ONE:
                chosen = units[i + 1:]
            else:
                return []
            names: list[str] = []
            for k, u in chosen:
                names.extend([u] if k == "alloc" else _all(u))
            return [n for n in names if n != failed]
    return []
