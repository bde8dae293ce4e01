"""The store contract suite: every test runs against MemoryStore and SQLiteStore."""

from __future__ import annotations

from typing import Any

import pytest
import trio

from dms.errors import StoreError, ValidationError
from dms.store import And, Collection, Cond, Query, Record, Store, where

pytestmark = pytest.mark.unit

JOBS: dict[str, dict[str, Any]] = {
    "j1": {"status": "running", "cpu": 2, "mem": 1.5, "spec": {"image": "alpine", "gpu": True},
           "owner": "Alice"},
    "j2": {"status": "failed", "cpu": 4, "mem": 8.0, "spec": {"image": "busybox", "gpu": False},
           "owner": "bob"},
    "j3": {"status": "running", "cpu": 1, "spec": {"image": "alpine:3"}, "owner": "carol"},
    "j4": {"status": "completed", "cpu": 8, "mem": 2, "spec": {"image": "debian"},
           "owner": "ALBERT"},
    "j5": {"status": None, "cpu": "many", "owner": "élodie"},
}


@pytest.fixture
def jobs(store: Store) -> Collection:
    c = store.collection("jobs")
    for id, doc in JOBS.items():
        c.put(id, doc)
    return c


def ids(rows: list[tuple[str, dict[str, Any]]]) -> list[str]:
    return [i for i, _ in rows]


def find(c: Collection, f: Any) -> list[str]:
    return ids(c.query(Query(filter=f)))


def test_implements_the_protocols(store: Store) -> None:
    assert isinstance(store, Store)
    assert isinstance(store.collection("x"), Collection)
    assert isinstance(store.record("x"), Record)


def test_put_get_replace_delete(store: Store) -> None:
    c = store.collection("things")
    assert c.get("a") is None
    c.put("a", {"n": 1, "tags": ["x", "y"], "nested": {"k": None}})
    assert c.get("a") == {"n": 1, "tags": ["x", "y"], "nested": {"k": None}}
    c.put("a", {"n": 2})
    assert c.get("a") == {"n": 2}
    assert c.count() == 1
    assert c.delete("a") is True
    assert c.delete("a") is False
    assert c.get("a") is None


def test_documents_are_copies(store: Store) -> None:
    c = store.collection("things")
    doc: dict[str, Any] = {"list": [1]}
    c.put("a", doc)
    doc["list"].append(2)
    got = c.get("a")
    assert got == {"list": [1]}
    assert got is not None
    got["list"].append(3)
    assert c.get("a") == {"list": [1]}


def test_collections_are_separate_and_listed(store: Store) -> None:
    a, b = store.collection("a"), store.collection("b")
    a.put("x", {"v": "a"})
    b.put("x", {"v": "b"})
    assert a.get("x") == {"v": "a"} and b.get("x") == {"v": "b"}
    assert list(store.collections()) == ["a", "b"]
    a.delete("x")
    assert list(store.collections()) == ["b"]


@pytest.mark.parametrize(("cond", "expected"), [
    (Cond("status", "EQ", "running"), ["j1", "j3"]),
    (Cond("status", "NE", "running"), ["j2", "j4", "j5"]),
    (Cond("cpu", "GT", 2), ["j2", "j4"]),
    (Cond("cpu", "GTE", 2), ["j1", "j2", "j4"]),
    (Cond("cpu", "LT", 2), ["j3"]),
    (Cond("cpu", "LTE", 2), ["j1", "j3"]),
    (Cond("mem", "GT", 1.9), ["j2", "j4"]),
    (Cond("mem", "EQ", 2.0), ["j4"]),
    (Cond("cpu", "EQ", 8.0), ["j4"]),
    (Cond("owner", "GT", "b"), ["j2", "j3", "j5"]),
    (Cond("status", "IN", ["failed", "completed"]), ["j2", "j4"]),
    (Cond("status", "IN", []), []),
    (Cond("status", "IN", [None, "failed"]), ["j2", "j5"]),
    (Cond("cpu", "IN", [1, "many", 99]), ["j3", "j5"]),
    (Cond("owner", "LIKE", "al%"), ["j1", "j4"]),
    (Cond("owner", "LIKE", "_ob"), ["j2"]),
    (Cond("owner", "LIKE", "%O%"), ["j2", "j3", "j5"]),
    (Cond("owner", "LIKE", "ÉLODIE"), []),
    (Cond("owner", "LIKE", "_lodie"), ["j5"]),
    (Cond("spec.image", "EQ", "alpine"), ["j1"]),
    (Cond("spec.image", "LIKE", "alpine%"), ["j1", "j3"]),
    (Cond("spec.gpu", "EQ", True), ["j1"]),
    (Cond("spec.gpu", "EQ", False), ["j2"]),
    (Cond("spec.gpu", "NE", True), ["j2", "j3", "j4", "j5"]),
    (Cond("spec.gpu", "EQ", None), ["j3", "j4", "j5"]),
    (Cond("status", "EQ", None), ["j5"]),
    (Cond("status", "NE", None), ["j1", "j2", "j3", "j4"]),
    (Cond("nothere", "EQ", 1), []),
    (Cond("nothere", "NE", 1), ["j1", "j2", "j3", "j4", "j5"]),
])
def test_operators(jobs: Collection, cond: Cond, expected: list[str]) -> None:
    assert find(jobs, cond) == expected
    assert jobs.count(cond) == len(expected)


def test_comparisons_never_cross_json_kinds(store: Store) -> None:
    c = store.collection("kinds")
    c.put("t", {"v": True})
    c.put("one", {"v": 1})
    c.put("s1", {"v": "1"})
    c.put("arr", {"v": ["a"]})
    c.put("obj", {"v": {"a": 1}})
    assert find(c, Cond("v", "EQ", 1)) == ["one"]
    assert find(c, Cond("v", "EQ", True)) == ["t"]
    assert find(c, Cond("v", "EQ", "1")) == ["s1"]
    assert find(c, Cond("v", "GT", 0)) == ["one"]
    assert find(c, Cond("v", "GT", "")) == ["s1"]
    assert find(c, Cond("v", "EQ", '["a"]')) == []
    assert find(c, Cond("v", "LIKE", "%")) == ["s1"]
    assert find(c, Cond("v", "IN", [True, 0])) == ["t"]


def test_large_integers_compare_as_sqlite_reads_them(store: Store) -> None:
    c = store.collection("big")
    c.put("a", {"n": 2**70})
    c.put("b", {"n": 2**63 - 1})
    c.put("c", {"n": -(2**63)})
    assert find(c, Cond("n", "GT", 2**63)) == ["a"]
    assert find(c, Cond("n", "EQ", 2**63 - 1)) == ["b"]
    assert ids(c.query(Query(sort=[("n", "desc")]))) == ["a", "b", "c"]
    assert c.get("a") == {"n": 2**70}


def test_and_and_where(jobs: Collection) -> None:
    f = And((Cond("status", "EQ", "running"), Cond("cpu", "GTE", 2)))
    assert find(jobs, f) == ["j1"]
    nested = And((Cond("cpu", "GT", 0), And((Cond("spec.image", "LIKE", "alpine%"),
                                              Cond("owner", "NE", "Alice")))))
    assert find(jobs, nested) == ["j3"]
    assert find(jobs, And(())) == sorted(JOBS)
    assert find(jobs, where(status="running", owner="carol")) == ["j3"]
    assert find(jobs, where(status="failed")) == ["j2"]
    assert where() is None


def test_sort_limit_offset(jobs: Collection) -> None:
    def q(**kw: Any) -> list[str]:
        return ids(jobs.query(Query(**kw)))

    assert q() == ["j1", "j2", "j3", "j4", "j5"]
    # numbers first (by value), then text; missing/null first when ascending
    assert q(sort=[("cpu", "asc")]) == ["j3", "j1", "j2", "j4", "j5"]
    assert q(sort=[("cpu", "desc")]) == ["j5", "j4", "j2", "j1", "j3"]
    assert q(sort=[("mem", "asc")]) == ["j3", "j5", "j1", "j4", "j2"]
    assert q(sort=[("mem", "desc")]) == ["j2", "j4", "j1", "j3", "j5"]
    assert q(sort=[("status", "asc"), ("cpu", "desc")]) == ["j5", "j4", "j2", "j1", "j3"]
    assert q(sort=[("status", "desc"), ("cpu", "asc")]) == ["j3", "j1", "j2", "j4", "j5"]
    assert q(sort=[("spec.image", "asc")]) == ["j5", "j1", "j3", "j2", "j4"]
    assert q(sort=[("cpu", "asc")], limit=2) == ["j3", "j1"]
    assert q(sort=[("cpu", "asc")], limit=2, offset=2) == ["j2", "j4"]
    assert q(offset=4) == ["j5"]
    assert q(offset=9) == []
    assert q(limit=0) == []
    assert q(filter=Cond("status", "EQ", "running"), sort=[("cpu", "desc")]) == ["j1", "j3"]


def test_count(jobs: Collection, store: Store) -> None:
    assert jobs.count() == 5
    assert jobs.count(where(status="running")) == 2
    assert store.collection("empty").count() == 0


def test_ensure_index_keeps_results(jobs: Collection) -> None:
    before = find(jobs, Cond("spec.image", "EQ", "alpine"))
    jobs.ensure_index("spec.image")
    jobs.ensure_index("spec.image")
    assert find(jobs, Cond("spec.image", "EQ", "alpine")) == before == ["j1"]
    jobs.put("j6", {"spec": {"image": "alpine"}})
    assert find(jobs, Cond("spec.image", "EQ", "alpine")) == ["j1", "j6"]


def test_record_history(store: Store) -> None:
    r = store.record("node-state")
    assert r.get() is None
    assert r.history() == []
    r.set({"phase": "starting"})
    r.set({"phase": "ready"})
    r.set({"phase": "ready", "peers": 3})
    assert r.get() == {"phase": "ready", "peers": 3}
    hist = r.history()
    assert [d for _, d in hist] == [{"phase": "ready", "peers": 3}, {"phase": "ready"},
                                   {"phase": "starting"}]
    stamps = [t for t, _ in hist]
    assert stamps == sorted(stamps, reverse=True) and len(set(stamps)) == 3
    assert [d for _, d in r.history(limit=1)] == [{"phase": "ready", "peers": 3}]
    assert store.record("other").get() is None


def test_transaction_commits(store: Store) -> None:
    c = store.collection("acc")
    with store.transaction():
        c.put("a", {"units": 5})
        c.put("b", {"units": 5})
        store.record("r").set({"v": 1})
    assert c.count() == 2 and store.record("r").get() == {"v": 1}


def test_transaction_rolls_back_on_exception(store: Store) -> None:
    c = store.collection("acc")
    c.put("a", {"units": 10})
    r = store.record("r")
    r.set({"v": 0})
    with pytest.raises(RuntimeError, match="boom"), store.transaction():
        c.put("a", {"units": 0})
        c.put("b", {"units": 10})
        c.delete("a")
        r.set({"v": 1})
        raise RuntimeError("boom")
    assert c.get("a") == {"units": 10}
    assert c.get("b") is None
    assert r.get() == {"v": 0} and len(r.history()) == 1
    c.put("c", {"units": 1})  # the store is usable afterwards, outside any transaction
    assert c.count() == 2


def test_nested_transactions_use_savepoints(store: Store) -> None:
    c = store.collection("acc")
    with store.transaction():
        c.put("outer", {})
        with pytest.raises(ValueError), store.transaction():
            c.put("inner-failed", {})
            raise ValueError
        with store.transaction():
            c.put("inner-ok", {})
    assert ids(c.query()) == ["inner-ok", "outer"]

    with pytest.raises(KeyError), store.transaction():
        with store.transaction():
            c.put("inner-committed-then-outer-failed", {})
        raise KeyError
    assert ids(c.query()) == ["inner-ok", "outer"]


def test_transaction_sees_its_own_writes(store: Store) -> None:
    c = store.collection("acc")
    c.put("a", {"units": 3})
    with store.transaction():
        doc = c.get("a")
        assert doc is not None
        c.put("a", {"units": doc["units"] - 1})
        assert c.get("a") == {"units": 2}
        assert c.count(Cond("units", "EQ", 2)) == 1


@pytest.mark.parametrize("field", ["", "a..b", "1a", "a.b-c", "a'); DROP TABLE docs;--",
                                   "$.a", "a[0]", "a b", ".a", "a."])
def test_bad_field_path_is_a_clear_validation_error(jobs: Collection, field: str) -> None:
    with pytest.raises(ValidationError) as e:
        jobs.query(Query(filter=Cond(field, "EQ", 1)))
    assert "bad field path" in e.value.message and "dotted identifiers" in e.value.hint
    with pytest.raises(ValidationError):
        jobs.query(Query(sort=[(field, "asc")]))
    with pytest.raises(ValidationError):
        jobs.ensure_index(field)
    assert jobs.count() == 5


@pytest.mark.parametrize(("cond", "text"), [
    (Cond("a", "GT", None), "needs a number or a string"),
    (Cond("a", "LT", True), "needs a number or a string"),
    (Cond("a", "LIKE", 3), "needs a string pattern"),
    (Cond("a", "IN", "abc"), "needs a list"),
    (Cond("a", "EQ", [1]), "unsupported value type"),
    (Cond("a", "EQ", float("nan")), "not a finite number"),
    (Cond("a", "BETWEEN", 1), "unknown operator"),  # type: ignore[arg-type]
])
def test_bad_conditions(jobs: Collection, cond: Cond, text: str) -> None:
    with pytest.raises(ValidationError, match=text) as e:
        jobs.count(cond)
    assert e.value.hint


def test_bad_documents_ids_and_queries(store: Store) -> None:
    c = store.collection("c")
    with pytest.raises(ValidationError, match="JSON object"):
        c.put("a", [1, 2])  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="not JSON-serializable"):
        c.put("a", {"x": object()})
    with pytest.raises(ValidationError, match="not JSON-serializable"):
        c.put("a", {"x": float("inf")})
    with pytest.raises(ValidationError, match="bad document id"):
        c.put("", {})
    with pytest.raises(ValidationError, match="Unicode"):
        c.put("a", {"x": "\ud800"})
    with pytest.raises(ValidationError, match="bad limit"):
        c.query(Query(limit=-1))
    with pytest.raises(ValidationError, match="bad sort key"):
        c.query(Query(sort=[("a", "up")]))  # type: ignore[list-item]
    with pytest.raises(ValidationError, match="bad collection name"):
        store.collection("")
    assert c.count() == 0


def test_closed_store_says_so(store: Store) -> None:
    c = store.collection("c")
    store.close()
    with pytest.raises(StoreError, match="closed") as e:
        c.get("a")
    assert "open_store" in e.value.hint


async def test_another_task_cannot_walk_into_an_open_transaction(store: Store) -> None:
    c = store.collection("acc")
    inside = trio.Event()
    seen: list[str] = []

    async def owner() -> None:
        with store.transaction():
            c.put("a", {"v": 1})
            inside.set()
            await trio.sleep(0.05)  # the mistake this guards against
            c.put("b", {"v": 2})  # the owner itself may go on

    async def intruder() -> None:
        await inside.wait()
        with pytest.raises(StoreError, match="another task") as e:
            c.put("x", {"v": 3})
        assert "do not await" in e.value.hint
        with pytest.raises(StoreError, match="another task"):
            c.get("a")
        seen.append("refused")

    async with trio.open_nursery() as n:
        n.start_soon(owner)
        n.start_soon(intruder)
    assert seen == ["refused"]
    assert ids(c.query()) == ["a", "b"]
    c.put("x", {"v": 3})  # after the transaction, everyone may write again
