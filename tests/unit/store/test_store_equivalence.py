"""Property: random documents and random queries give the same answers from both stores."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dms.store import And, Cond, MemoryStore, Query, SQLiteStore
from dms.store.contract import Filter

pytestmark = pytest.mark.unit

FIELDS = ["a", "b", "n.x", "n.y"]
# Small pools so that documents and queries often meet: letters in both cases, LIKE
# wildcards as literal text, a non-ASCII pair LIKE does not fold, a multi-byte character
# for '_'. NUL is left out: SQLite's LIKE stops at it. Rare wide values test the edges.
ALPHABET = "aAbé%_"

ints = st.one_of(st.integers(-2, 2), st.sampled_from([2**63 - 1, -(2**63), 2**53 + 1]))
floats = st.one_of(st.sampled_from([-1.5, 0.0, -0.0, 0.5, 1.0, 2.0, 1e16]),
                   st.floats(allow_nan=False, allow_infinity=False))
texts = st.one_of(st.text(ALPHABET, max_size=2), st.text(ALPHABET + "É€ \n", max_size=5))
scalars = st.one_of(st.none(), st.booleans(), ints, floats, texts)
small = st.one_of(st.none(), st.booleans(), st.integers(-2, 2),
                  st.sampled_from([-1.5, 0.0, 0.5, 1.0, 2.0]), st.text("aAb%_é", max_size=2))
json_values = st.recursive(
    scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                     st.dictionaries(st.sampled_from("xyz"), inner, max_size=2)),
    max_leaves=5)
values = st.one_of(small, small, small, json_values)
nested = st.one_of(values, st.fixed_dictionaries({"x": values}, optional={"y": values}))
docs = st.fixed_dictionaries({"a": values}, optional={"b": values, "n": nested})


def _present(documents: dict[str, dict[str, Any]]) -> dict[str, list[Any]]:
    """Per field, the scalar values the documents hold there (so queries hit them)."""
    out: dict[str, list[Any]] = {f: [] for f in FIELDS}
    for doc in documents.values():
        for field in FIELDS:
            cur: Any = doc
            for part in field.split("."):
                cur = cur.get(part) if isinstance(cur, dict) else None
            if not isinstance(cur, (list, dict)):
                out[field].append(cur)
    return out


def _mangle(text: str, edits: list[str]) -> str:
    """A LIKE pattern built from a stored string: swap case, wildcards in place of chars."""
    out = []
    for ch, e in zip(text, edits, strict=False):
        out.append({"keep": ch, "swap": ch.swapcase(), "one": "_", "any": "%"}.get(e, ch))
    return "".join(out) + ("%" if len(edits) > len(text) else "")


def _conds_on(field: str, present: list[Any]) -> st.SearchStrategy[Cond]:
    seen = st.sampled_from(present or [None])
    ordered = [v for v in present if isinstance(v, (int, float, str)) and not isinstance(v, bool)]
    strs = [v for v in present if isinstance(v, str)] or ["aB"]
    value = st.one_of(seen, seen, small, scalars)
    eq = st.builds(Cond, st.just(field), st.sampled_from(["EQ", "NE"]), value)
    rng = st.builds(Cond, st.just(field), st.sampled_from(["GT", "GTE", "LT", "LTE"]),
                    st.one_of(st.sampled_from(ordered or [0]), st.integers(-2, 2),
                              floats, texts))
    in_ = st.builds(Cond, st.just(field), st.just("IN"), st.lists(value, max_size=4))
    patterns = st.one_of(
        st.text(ALPHABET, max_size=3),
        st.builds(_mangle, st.sampled_from(strs),
                  st.lists(st.sampled_from(["keep", "swap", "one", "any"]), max_size=6)))
    like = st.builds(Cond, st.just(field), st.just("LIKE"), patterns)
    return st.one_of(eq, rng, in_, like)


def conds(present: dict[str, list[Any]]) -> st.SearchStrategy[Cond]:
    return st.sampled_from(FIELDS).flatmap(lambda f: _conds_on(f, present[f]))


def queries(present: dict[str, list[Any]]) -> st.SearchStrategy[Query]:
    filters: st.SearchStrategy[Filter] = st.recursive(
        conds(present),
        lambda inner: st.builds(lambda xs: And(tuple(xs)), st.lists(inner, max_size=3)),
        max_leaves=4)
    return st.builds(
        Query,
        filter=st.one_of(st.none(), filters),
        sort=st.lists(st.tuples(st.sampled_from(FIELDS), st.sampled_from(["asc", "desc"])),
                      max_size=2),
        limit=st.one_of(st.none(), st.integers(0, 6)),
        offset=st.integers(0, 3),
    )


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.text("abcdef", min_size=1, max_size=3), docs, min_size=2, max_size=12),
       st.data())
def test_memory_and_sqlite_agree(documents: dict[str, dict[str, Any]], data: st.DataObject) -> None:
    qs = data.draw(st.lists(queries(_present(documents)), min_size=1, max_size=4))
    mem, sql = MemoryStore(), SQLiteStore(":memory:")
    try:
        for s in (mem, sql):
            c = s.collection("c")
            for id, doc in documents.items():
                c.put(id, doc)
            c.ensure_index("n.x")
        for q in qs:
            expected = mem.collection("c").query(q)
            assert sql.collection("c").query(q) == expected, q
            assert sql.collection("c").count(q.filter) == mem.collection("c").count(q.filter)
    finally:
        mem.close()
        sql.close()
