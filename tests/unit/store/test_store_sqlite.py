"""What only the SQLite store has: pragmas, index use, files, threads, bad files."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

import dms.store
from dms.errors import StoreError
from dms.store import Cond, MemoryStore, Query, SQLiteStore, open_store

pytestmark = pytest.mark.unit


def test_public_surface() -> None:
    assert sorted(dms.store.__all__) == sorted([
        "And", "Collection", "Cond", "Filter", "MemoryStore", "Op", "Query", "Record",
        "SQLiteStore", "Store", "open_store", "where"])


def test_open_store_picks_the_implementation(tmp_path: Path) -> None:
    mem = open_store(None)
    assert isinstance(mem, MemoryStore)
    db = open_store(tmp_path / "deep" / "dir" / "dms.db")
    assert isinstance(db, SQLiteStore)
    db.collection("c").put("a", {"v": 1})
    db.close()
    with SQLiteStore(tmp_path / "deep" / "dir" / "dms.db") as again:
        assert again.collection("c").get("a") == {"v": 1}


def test_pragmas(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "p.db") as s:
        assert s._all("PRAGMA journal_mode")[0][0] == "wal"
        assert s._all("PRAGMA synchronous")[0][0] == 1  # NORMAL
        assert s._all("PRAGMA busy_timeout")[0][0] == 5000


def test_equality_and_range_queries_use_the_expression_index(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "i.db") as s:
        c = s.collection("jobs")
        for i in range(50):
            c.put(f"j{i}", {"spec": {"node": f"n{i % 5}"}, "n": i})
        q = Query(filter=Cond("spec.node", "EQ", "n3"))
        assert not any("ix_docs_spec.node" in p for p in s.explain(*c.select_sql(q)))
        c.ensure_index("spec.node")
        c.ensure_index("n")
        assert any("USING INDEX" in p and "ix_docs_spec.node" in p
                   for p in s.explain(*c.select_sql(q)))
        rng = Query(filter=Cond("n", "GT", 45))
        assert any("ix_docs_n" in p for p in s.explain(*c.select_sql(rng)))
        assert [i for i, _ in c.query(rng)] == ["j46", "j47", "j48", "j49"]


def test_values_are_bound_never_interpolated(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "b.db") as s:
        c = s.collection("c")
        evil = "x'); DROP TABLE docs; --"
        c.put(evil, {"v": evil})
        sql, params = c.select_sql(Query(filter=Cond("v", "EQ", evil)))
        assert evil not in sql and evil in params
        assert [i for i, _ in c.query(Query(filter=Cond("v", "LIKE", evil)))] == [evil]
        assert s.collection(evil).count() == 0


def test_threads_share_one_store_safely(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "t.db") as s:
        c = s.collection("acc")
        c.put("total", {"n": 0})
        errors: list[BaseException] = []

        def work(k: int) -> None:
            try:
                for i in range(50):
                    c.put(f"t{k}-{i}", {"k": k})
                    with s.transaction():  # read-modify-write must not interleave
                        doc = c.get("total")
                        assert doc is not None
                        c.put("total", {"n": doc["n"] + 1})
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert c.get("total") == {"n": 200}
        assert c.count() == 201


def test_second_connection_sees_only_committed_data(tmp_path: Path) -> None:
    path = tmp_path / "two.db"
    with SQLiteStore(path) as s, SQLiteStore(path) as other:
        c = s.collection("c")
        with s.transaction():
            c.put("a", {})
            assert other.collection("c").get("a") is None
        assert other.collection("c").get("a") == {}


def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "garbage.db"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="unreadable") as e:
        SQLiteStore(bad)
    assert "move it away" in e.value.hint


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(StoreError, match="schema version 99"):
        SQLiteStore(path)
