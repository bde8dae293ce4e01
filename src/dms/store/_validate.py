"""Input checks shared by every store implementation (pure, no I/O).

Both implementations call these first, so a bad field path, id, document or query is
rejected the same way, with a :class:`~dms.errors.ValidationError` that says what was
wrong and how to fix it. The normalized filter they return is what the SQL compiler
(:mod:`._sql`) and the in-memory matcher (:mod:`._match`) consume.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from dms.errors import ValidationError
from dms.store.contract import And, Cond, Filter, Query

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

#: Dotted identifiers only: the path is written into SQL text (an expression index only
#: matches a literal path), so nothing else may ever reach it.
FIELD_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}(?:\.[A-Za-z_][A-Za-z0-9_]{0,63}){0,7}")
OPS = ("EQ", "NE", "GT", "GTE", "LT", "LTE", "IN", "LIKE")
RANGE_OPS = ("GT", "GTE", "LT", "LTE")
MAX_NAME = 200
MAX_ID = 1024
MAX_DEPTH = 32


def check_field(path: object) -> str:
    if not isinstance(path, str) or not FIELD_RE.fullmatch(path):
        raise ValidationError(
            f"bad field path {path!r}",
            hint="use dotted identifiers such as 'status' or 'spec.cpu' "
                 "(letters, digits, '_', not starting with a digit, at most 8 levels)")
    return path


def check_name(kind: str, name: object) -> str:
    if (not isinstance(name, str) or not name or len(name) > MAX_NAME
            or any(ord(c) < 32 for c in name)):
        raise ValidationError(
            f"bad {kind} name {name!r}",
            hint=f"a {kind} name is a non-empty string of at most {MAX_NAME} characters "
                 "without control characters")
    _check_utf8(name, f"{kind} name")
    return name


def check_id(id: object) -> str:
    if not isinstance(id, str) or not id or len(id) > MAX_ID:
        raise ValidationError(f"bad document id {id!r}",
                              hint=f"an id is a non-empty string of at most {MAX_ID} characters")
    _check_utf8(id, "document id")
    return id


def _check_utf8(s: str, what: str) -> None:
    try:
        s.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValidationError(f"{what} is not valid Unicode text ({exc.reason})",
                              hint="remove lone surrogate characters") from exc


def encode_doc(doc: object) -> str:
    """The canonical JSON text stored for ``doc`` (compact, key order kept)."""
    if not isinstance(doc, dict):
        raise ValidationError(f"a document must be a JSON object (dict), got {type(doc).__name__}",
                              hint="wrap the value, e.g. {'value': ...}")
    try:
        text = json.dumps(doc, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        raise ValidationError(f"document is not JSON-serializable: {exc}",
                              hint="use only dict, list, str, int, finite float, bool and None") from exc
    _check_utf8(text, "document")
    return text


def normalize_value(v: object, op: str, field: str) -> Any:
    """A query value as both implementations bind it (out-of-int64 ints become floats,
    exactly as SQLite's json_extract reads such numbers)."""
    if isinstance(v, bool) or v is None or isinstance(v, str):
        if isinstance(v, str):
            _check_utf8(v, f"value for {field!r}")
        return v
    if isinstance(v, int):
        return v if INT64_MIN <= v <= INT64_MAX else float(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValidationError(f"{op} on {field!r}: value {v!r} is not a finite number",
                                  hint="compare with finite numbers only")
        return v
    raise ValidationError(
        f"{op} on {field!r}: unsupported value type {type(v).__name__}",
        hint="compare with None, bool, int, float or str (IN takes a list of those)")


def _normalize_cond(c: Cond) -> Cond:
    field = check_field(c.field)
    op = c.op
    if op not in OPS:
        raise ValidationError(f"unknown operator {op!r} on {field!r}",
                              hint=f"use one of {', '.join(OPS)}")
    v = c.value
    if op == "IN":
        if isinstance(v, (str, bytes, dict)) or not isinstance(v, (list, tuple, set, frozenset)):
            raise ValidationError(f"IN on {field!r} needs a list of values, got {v!r}",
                                  hint="pass e.g. Cond('status', 'IN', ['running', 'failed'])")
        return Cond(field, op, tuple(normalize_value(x, op, field) for x in v))
    nv = normalize_value(v, op, field)
    if op in RANGE_OPS and (nv is None or isinstance(nv, bool)):
        raise ValidationError(f"{op} on {field!r} needs a number or a string, got {v!r}",
                              hint="use EQ/NE for None and booleans")
    if op == "LIKE" and not isinstance(nv, str):
        raise ValidationError(f"LIKE on {field!r} needs a string pattern, got {v!r}",
                              hint="use '%' for any run of characters and '_' for one character")
    return Cond(field, op, nv)


def normalize_filter(f: object, depth: int = 0) -> Filter | None:
    if f is None:
        return None
    if depth > MAX_DEPTH:
        raise ValidationError("filter nests too deeply", hint=f"keep And trees under {MAX_DEPTH} levels")
    if isinstance(f, Cond):
        return _normalize_cond(f)
    if isinstance(f, And):
        parts = []
        for c in f.conds:
            n = normalize_filter(c, depth + 1)
            if n is None:
                raise ValidationError("None inside And(...)", hint="pass only Cond or And values")
            parts.append(n)
        return And(tuple(parts))
    raise ValidationError(f"a filter is a Cond or an And, got {type(f).__name__}",
                          hint="build filters with Cond(field, op, value), And((...)) or where(...)")


def check_limit(name: str, val: object, *, allow_none: bool = True) -> int | None:
    if val is None and allow_none:
        return None
    if isinstance(val, bool) or not isinstance(val, int) or val < 0:
        raise ValidationError(f"bad {name} {val!r}", hint=f"{name} is a non-negative integer")
    return val


def normalize_query(q: object) -> Query:
    if q is None:
        return Query()
    if not isinstance(q, Query):
        raise ValidationError(f"expected a Query, got {type(q).__name__}",
                              hint="pass Query(filter=..., sort=..., limit=..., offset=...)")
    sort = []
    for item in q.sort:
        if not isinstance(item, (tuple, list)) or len(item) != 2 or item[1] not in ("asc", "desc"):
            raise ValidationError(f"bad sort key {item!r}",
                                  hint="sort is a sequence of (field, 'asc' | 'desc') pairs")
        sort.append((check_field(item[0]), item[1]))
    check_limit("limit", q.limit)
    check_limit("offset", q.offset, allow_none=False)
    return Query(filter=normalize_filter(q.filter), sort=tuple(sort), limit=q.limit,
                 offset=q.offset)
