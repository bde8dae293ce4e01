"""Evaluate a normalized filter and sort in Python exactly as SQLite does (pure).

This is the in-memory twin of :mod:`._sql`. It reproduces what SQLite's JSON1 functions
return: ``json_type`` (the JSON kind, ``None`` when the path is missing) and
``json_extract`` (an SQL value: booleans read as 1/0, integers outside int64 as floats,
arrays and objects as their compact JSON text), SQLite's cross-type ordering
(NULL < numbers < text) and its ``LIKE`` (``%``, ``_``, ASCII-only case folding).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from dms.store._validate import INT64_MAX, INT64_MIN
from dms.store.contract import And, Cond, Filter

_MISSING: tuple[str | None, Any] = (None, None)
_NUM = ("integer", "real")


def json_value(v: Any) -> tuple[str, Any]:
    """(json_type, json_extract value) of a decoded JSON value."""
    if v is None:
        return "null", None
    if v is True:
        return "true", 1
    if v is False:
        return "false", 0
    if isinstance(v, int):
        return "integer", v if INT64_MIN <= v <= INT64_MAX else float(v)
    if isinstance(v, float):
        return "real", v
    if isinstance(v, str):
        return "text", v
    text = json.dumps(v, separators=(",", ":"), ensure_ascii=False)
    return ("array" if isinstance(v, list) else "object"), text


def extract(doc: dict[str, Any], field: str) -> tuple[str | None, Any]:
    cur: Any = doc
    for part in field.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return _MISSING
        cur = cur[part]
    return json_value(cur)


def _kind_matches(jtype: str | None, value: Any) -> bool:
    """The json_type guard of :func:`dms.store._sql._typed`."""
    if isinstance(value, bool):
        return jtype == ("true" if value else "false")
    if isinstance(value, str):
        return jtype == "text"
    return jtype in _NUM


def _compare(op: str, a: Any, b: Any) -> bool:
    if op == "EQ":
        return bool(a == b)
    if op == "GT":
        return bool(a > b)
    if op == "GTE":
        return bool(a >= b)
    if op == "LT":
        return bool(a < b)
    return bool(a <= b)


def _eq(jtype: str | None, x: Any, value: Any) -> bool:
    if value is None:
        return x is None
    return _kind_matches(jtype, value) and x == (int(value) if isinstance(value, bool) else value)


@lru_cache(maxsize=512)
def like_regex(pattern: str) -> re.Pattern[str]:
    out = []
    for ch in pattern:
        if ch == "%":
            out.append(".*")
        elif ch == "_":
            out.append(".")
        elif ch.isascii() and ch.isalpha():
            out.append(f"[{ch.lower()}{ch.upper()}]")
        else:
            out.append(re.escape(ch))
    return re.compile("".join(out), re.DOTALL)


def match_cond(c: Cond, doc: dict[str, Any]) -> bool:
    jtype, x = extract(doc, c.field)
    if c.op == "EQ":
        return _eq(jtype, x, c.value)
    if c.op == "NE":
        return not _eq(jtype, x, c.value)
    if c.op == "IN":
        return any(_eq(jtype, x, v) for v in c.value)
    if c.op == "LIKE":
        return jtype == "text" and like_regex(c.value).fullmatch(x) is not None
    return _kind_matches(jtype, c.value) and _compare(c.op, x, c.value)


def matches(f: Filter | None, doc: dict[str, Any]) -> bool:
    if f is None:
        return True
    if isinstance(f, Cond):
        return match_cond(f, doc)
    return all(matches(c, doc) for c in f.conds) if isinstance(f, And) else True


def sql_sort_key(x: Any) -> tuple[int, Any]:
    """SQLite's ORDER BY for the values json_extract returns: NULL < numbers < text."""
    if x is None:
        return (0, 0)
    if isinstance(x, str):
        return (2, x)
    return (1, x)


def sort_rows(rows: list[tuple[str, dict[str, Any]]],
              sort: Sequence[tuple[str, str]]) -> list[tuple[str, dict[str, Any]]]:
    """Sort like ``ORDER BY <keys>, id ASC`` (stable passes, last key first)."""
    out = sorted(rows, key=lambda r: r[0])
    for field, direction in reversed(sort):
        out.sort(key=lambda r, f=field: sql_sort_key(extract(r[1], f)[1]),  # type: ignore[misc]
                 reverse=direction == "desc")
    return out
