"""Compile a normalized filter and sort to SQLite SQL (pure, no I/O).

Values are always bound parameters. The only text written into the SQL is a field path
that :func:`~dms.store._validate.check_field` accepted, because an expression index on
``json_extract(doc, '$.a.b')`` is only used when the query spells the same literal path.

Each comparison is guarded by ``json_type`` so it matches only a value of the same JSON
kind (numbers with numbers, strings with strings, booleans with booleans); the
in-memory matcher in :mod:`._match` mirrors every rule here line by line.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dms.store.contract import And, Cond, Filter

_SQL_OP = {"EQ": "=", "GT": ">", "GTE": ">=", "LT": "<", "LTE": "<="}
NUM_TYPES = "('integer','real')"


def extract(field: str) -> str:
    return f"json_extract(doc, '$.{field}')"


def jtype(field: str) -> str:
    return f"json_type(doc, '$.{field}')"


def index_name(field: str) -> str:
    return f'"ix_docs_{field}"'


def index_sql(field: str) -> str:
    return f"CREATE INDEX IF NOT EXISTS {index_name(field)} ON docs(coll, {extract(field)})"


def _typed(field: str, sqlop: str, value: Any) -> tuple[str, list[Any]]:
    """``field <sqlop> value`` where the stored value has the same JSON kind."""
    x, t = extract(field), jtype(field)
    if isinstance(value, bool):
        return f"({x} {sqlop} ? AND {t} = '{'true' if value else 'false'}')", [int(value)]
    if isinstance(value, str):
        return f"({x} {sqlop} ? AND {t} = 'text')", [value]
    return f"({x} {sqlop} ? AND {t} IN {NUM_TYPES})", [value]


def _eq(field: str, value: Any) -> tuple[str, list[Any]]:
    if value is None:
        return f"({extract(field)} IS NULL)", []
    return _typed(field, "=", value)


def _in(field: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
    x, t = extract(field), jtype(field)
    terms: list[str] = []
    params: list[Any] = []
    nums = [v for v in values if not isinstance(v, (bool, str)) and v is not None]
    strs = [v for v in values if isinstance(v, str)]
    bools = sorted({v for v in values if isinstance(v, bool)})
    for group, guard in ((nums, f"{t} IN {NUM_TYPES}"), (strs, f"{t} = 'text'")):
        if group:
            marks = ",".join("?" * len(group))
            terms.append(f"({x} IN ({marks}) AND {guard})")
            params.extend(group)
    if bools:
        names = ",".join("'true'" if b else "'false'" for b in bools)
        terms.append(f"({t} IN ({names}))")
    if any(v is None for v in values):
        terms.append(f"({x} IS NULL)")
    if not terms:
        return "(0)", []
    return "(" + " OR ".join(terms) + ")", params


def compile_cond(c: Cond) -> tuple[str, list[Any]]:
    if c.op == "EQ":
        return _eq(c.field, c.value)
    if c.op == "NE":
        sql, params = _eq(c.field, c.value)
        return f"({sql} IS NOT 1)", params
    if c.op == "IN":
        return _in(c.field, c.value)
    if c.op == "LIKE":
        return f"({extract(c.field)} LIKE ? AND {jtype(c.field)} = 'text')", [c.value]
    return _typed(c.field, _SQL_OP[c.op], c.value)


def compile_filter(f: Filter | None) -> tuple[str, list[Any]]:
    if f is None:
        return "1", []
    if isinstance(f, Cond):
        return compile_cond(f)
    if not isinstance(f, And) or not f.conds:
        return "1", []
    parts: list[str] = []
    params: list[Any] = []
    for c in f.conds:
        sql, p = compile_filter(c)
        parts.append(sql)
        params.extend(p)
    return "(" + " AND ".join(parts) + ")", params


def compile_order(sort: Sequence[tuple[str, str]], *, filtered: bool) -> str:
    """ORDER BY the sort keys, then id. With a filter, the id tie-break is written ``+id``
    so the planner cannot prefer the (coll, id) index to skip the sort over an expression
    index that finds the few matching rows (without statistics it would)."""
    keys = [f"{extract(field)} {'DESC' if d == 'desc' else 'ASC'}" for field, d in sort]
    keys.append("+id ASC" if filtered else "id ASC")
    return ", ".join(keys)
