"""The SQLite store: the embedded default (stdlib ``sqlite3``, JSON1, WAL).

One connection per store, guarded by a re-entrant lock, so calls may come from any
thread (trio worker threads included). Every single write is one statement in
autocommit mode, hence atomic; :meth:`SQLiteStore.transaction` groups writes with
``BEGIN IMMEDIATE`` and nests with savepoints. The lock is held for the whole
transaction, so another thread's writes never land inside it.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import Token
from pathlib import Path
from types import TracebackType
from typing import Any

from dms.errors import StoreError
from dms.store import _sql
from dms.store._owner import check_owner, claim, release
from dms.store._validate import (
    check_field,
    check_id,
    check_limit,
    check_name,
    encode_doc,
    normalize_filter,
    normalize_query,
)
from dms.store.contract import Filter, Query

SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 5000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
    rid  INTEGER PRIMARY KEY,
    coll TEXT NOT NULL,
    id   TEXT NOT NULL,
    doc  TEXT NOT NULL,
    UNIQUE (coll, id)
);
CREATE TABLE IF NOT EXISTS record_history (
    name TEXT NOT NULL,
    seq  INTEGER NOT NULL,
    ts   REAL NOT NULL,
    doc  TEXT NOT NULL,
    PRIMARY KEY (name, seq)
);
"""


def _store_error(exc: sqlite3.Error, path: str) -> StoreError:
    msg = str(exc)
    if "locked" in msg or "busy" in msg:
        return StoreError(f"database {path} is busy: {msg}",
                          hint="another process holds a long write transaction; retry, or stop it")
    if "not a database" in msg or "malformed" in msg:
        return StoreError(f"database {path} is unreadable: {msg}",
                          hint="the file is not a dms database or is damaged; move it away "
                               "and restart to create a fresh one")
    if "unable to open" in msg or "readonly" in msg:
        return StoreError(f"cannot open database {path}: {msg}",
                          hint="check that the directory exists and is writable by this user")
    return StoreError(f"database error on {path}: {msg}",
                      hint="see the details; if it persists, check disk space and permissions")


class SQLiteStore:
    """A :class:`~dms.store.contract.Store` in one SQLite file (``":memory:"`` works too)."""

    def __init__(self, path: Path | str, *, clock: Callable[[], float] = time.time) -> None:
        self.path = str(path)
        self._clock = clock
        self._lock = threading.RLock()
        self._depth = 0
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._conn: sqlite3.Connection | None = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                check_same_thread=False)
            self._setup(self._conn)
        except sqlite3.Error as exc:
            raise _store_error(exc, self.path) from exc

    def _setup(self, conn: sqlite3.Connection) -> None:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if self.path != ":memory:" and str(mode).lower() != "wal":
            raise StoreError(f"database {self.path} could not switch to WAL (got {mode})",
                             hint="put DMS_HOME on a local filesystem that supports shared memory")
        conn.execute("PRAGMA synchronous = NORMAL")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(f"database {self.path} has schema version {version}, this dms "
                             f"knows {SCHEMA_VERSION}", hint="upgrade dms or use another home")
        if version < SCHEMA_VERSION:
            conn.execute("BEGIN IMMEDIATE")
            try:
                for stmt in _SCHEMA.split(";"):
                    if stmt.strip():
                        conn.execute(stmt)
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    # -- plumbing -------------------------------------------------------------------------

    @contextmanager
    def _cursor(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._conn is None:
                raise StoreError("the store is closed", hint="open it again with open_store()")
            check_owner(self, self._depth)
            try:
                yield self._conn
            except sqlite3.Error as exc:
                raise _store_error(exc, self.path) from exc

    def _all(self, sql: str, params: list[Any] | tuple[Any, ...] = ()) -> list[Any]:
        with self._cursor() as conn:
            return conn.execute(sql, params).fetchall()

    def _write(self, sql: str, params: list[Any] | tuple[Any, ...] = ()) -> int:
        with self._cursor() as conn:
            return conn.execute(sql, params).rowcount

    def explain(self, sql: str, params: list[Any] | tuple[Any, ...] = ()) -> list[str]:
        """``EXPLAIN QUERY PLAN`` details (for tests and benchmarks)."""
        return [str(r[3]) for r in self._all("EXPLAIN QUERY PLAN " + sql, params)]

    # -- Store --------------------------------------------------------------------------------

    def collection(self, name: str) -> SQLiteCollection:
        return SQLiteCollection(self, check_name("collection", name))

    def record(self, name: str) -> SQLiteRecord:
        return SQLiteRecord(self, check_name("record", name))

    def transaction(self) -> _Transaction:
        return _Transaction(self)

    def collections(self) -> Iterator[str]:
        return iter([r[0] for r in self._all("SELECT DISTINCT coll FROM docs ORDER BY coll")])

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                conn, self._conn = self._conn, None
                conn.close()

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Transaction:
    """Outermost level: BEGIN IMMEDIATE / COMMIT; nested levels: savepoints."""

    def __init__(self, store: SQLiteStore) -> None:
        self._store = store
        self._level = -1
        self._token: Token[frozenset[int]] | None = None

    def __enter__(self) -> None:
        s = self._store
        s._lock.acquire()
        try:
            with s._cursor() as conn:
                self._level = s._depth
                conn.execute("BEGIN IMMEDIATE" if self._level == 0 else f"SAVEPOINT sp{self._level}")
                s._depth += 1
            self._token = claim(s)
        except BaseException:
            s._lock.release()
            raise

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        s, lvl = self._store, self._level
        try:
            if self._token is not None:
                release(self._token)
            s._depth = lvl
            with s._cursor() as conn:
                if et is None:
                    try:
                        conn.execute("COMMIT" if lvl == 0 else f"RELEASE sp{lvl}")
                    except sqlite3.Error:
                        self._rollback(conn, lvl)
                        raise
                else:
                    self._rollback(conn, lvl)
        finally:
            s._lock.release()

    @staticmethod
    def _rollback(conn: sqlite3.Connection, lvl: int) -> None:
        if lvl == 0:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
        else:
            conn.execute(f"ROLLBACK TO sp{lvl}")
            conn.execute(f"RELEASE sp{lvl}")


class SQLiteCollection:
    def __init__(self, store: SQLiteStore, name: str) -> None:
        self._store = store
        self.name = name

    def put(self, id: str, doc: dict[str, Any]) -> None:
        self._store._write(
            "INSERT INTO docs (coll, id, doc) VALUES (?, ?, ?) "
            "ON CONFLICT (coll, id) DO UPDATE SET doc = excluded.doc",
            (self.name, check_id(id), encode_doc(doc)))

    def get(self, id: str) -> dict[str, Any] | None:
        rows = self._store._all("SELECT doc FROM docs WHERE coll = ? AND id = ?",
                                (self.name, check_id(id)))
        return json.loads(rows[0][0]) if rows else None

    def delete(self, id: str) -> bool:
        return self._store._write("DELETE FROM docs WHERE coll = ? AND id = ?",
                                  (self.name, check_id(id))) > 0

    def select_sql(self, q: Query | None = None) -> tuple[str, list[Any]]:
        """The SELECT this collection runs for ``q`` (validated), with its parameters."""
        nq = normalize_query(q)
        where, params = _sql.compile_filter(nq.filter)
        sql = (f"SELECT id, doc FROM docs WHERE coll = ? AND {where} "
               f"ORDER BY {_sql.compile_order(nq.sort, filtered=nq.filter is not None)} LIMIT ? OFFSET ?")
        return sql, [self.name, *params, -1 if nq.limit is None else nq.limit, nq.offset]

    def query(self, q: Query | None = None) -> list[tuple[str, dict[str, Any]]]:
        sql, params = self.select_sql(q)
        return [(r[0], json.loads(r[1])) for r in self._store._all(sql, params)]

    def count(self, filter: Filter | None = None) -> int:
        where, params = _sql.compile_filter(normalize_filter(filter))
        rows = self._store._all(f"SELECT count(*) FROM docs WHERE coll = ? AND {where}",
                                [self.name, *params])
        return int(rows[0][0])

    def ensure_index(self, field: str) -> None:
        self._store._write(_sql.index_sql(check_field(field)))


class SQLiteRecord:
    def __init__(self, store: SQLiteStore, name: str) -> None:
        self._store = store
        self.name = name

    def get(self) -> dict[str, Any] | None:
        rows = self._store._all(
            "SELECT doc FROM record_history WHERE name = ? ORDER BY seq DESC LIMIT 1",
            (self.name,))
        return json.loads(rows[0][0]) if rows else None

    def set(self, doc: dict[str, Any]) -> None:
        self._store._write(
            "INSERT INTO record_history (name, seq, ts, doc) VALUES (?, "
            "COALESCE((SELECT max(seq) FROM record_history WHERE name = ?), 0) + 1, ?, ?)",
            (self.name, self.name, self._store._clock(), encode_doc(doc)))

    def history(self, limit: int | None = None) -> list[tuple[float, dict[str, Any]]]:
        check_limit("history limit", limit)
        rows = self._store._all(
            "SELECT ts, doc FROM record_history WHERE name = ? ORDER BY seq DESC LIMIT ?",
            (self.name, -1 if limit is None else limit))
        return [(float(r[0]), json.loads(r[1])) for r in rows]
