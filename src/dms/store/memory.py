"""The in-memory store: same contract and same query semantics as the SQLite store.

For unit tests of upper layers. Documents are kept as the same canonical JSON text the
SQLite store writes, so validation, isolation (callers never share objects with the
store) and container comparisons behave identically. Transactions keep an undo log;
nested levels are marks in it.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextvars import Token
from types import TracebackType
from typing import Any

from dms.errors import StoreError
from dms.store._match import matches, sort_rows
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

Undo = Callable[[], None]


class MemoryStore:
    """A :class:`~dms.store.contract.Store` held in this process only."""

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.RLock()
        self._docs: dict[str, dict[str, str]] = {}
        self._records: dict[str, list[tuple[float, str]]] = {}
        self._undo: list[Undo] = []
        self._marks: list[int] = []
        self._closed = False

    def _check(self) -> None:
        if self._closed:
            raise StoreError("the store is closed", hint="open it again with open_store()")
        check_owner(self, len(self._marks))

    def _log(self, undo: Undo) -> None:
        if self._marks:
            self._undo.append(undo)

    def collection(self, name: str) -> MemoryCollection:
        return MemoryCollection(self, check_name("collection", name))

    def record(self, name: str) -> MemoryRecord:
        return MemoryRecord(self, check_name("record", name))

    def transaction(self) -> _Transaction:
        return _Transaction(self)

    def collections(self) -> Iterator[str]:
        with self._lock:
            self._check()
            return iter(sorted(n for n, docs in self._docs.items() if docs))

    def close(self) -> None:
        with self._lock:
            self._closed = True

    def __enter__(self) -> MemoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Transaction:
    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self._token: Token[frozenset[int]] | None = None

    def __enter__(self) -> None:
        s = self._store
        s._lock.acquire()
        try:
            s._check()
        except BaseException:
            s._lock.release()
            raise
        s._marks.append(len(s._undo))
        self._token = claim(s)

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        s = self._store
        try:
            if self._token is not None:
                release(self._token)
            mark = s._marks.pop()
            if et is not None:
                while len(s._undo) > mark:
                    s._undo.pop()()
            elif not s._marks:
                s._undo.clear()
        finally:
            s._lock.release()


class MemoryCollection:
    def __init__(self, store: MemoryStore, name: str) -> None:
        self._store = store
        self.name = name

    def _docs(self) -> dict[str, str]:
        self._store._check()
        return self._store._docs.setdefault(self.name, {})

    def put(self, id: str, doc: dict[str, Any]) -> None:
        id, text = check_id(id), encode_doc(doc)
        with self._store._lock:
            docs = self._docs()
            old = docs.get(id)
            docs[id] = text
            self._store._log(lambda: _restore(docs, id, old))

    def get(self, id: str) -> dict[str, Any] | None:
        id = check_id(id)
        with self._store._lock:
            text = self._docs().get(id)
        return None if text is None else json.loads(text)

    def delete(self, id: str) -> bool:
        id = check_id(id)
        with self._store._lock:
            docs = self._docs()
            old = docs.pop(id, None)
            if old is None:
                return False
            self._store._log(lambda: _restore(docs, id, old))
            return True

    def _matching(self, f: Filter | None) -> list[tuple[str, dict[str, Any]]]:
        with self._store._lock:
            items = list(self._docs().items())
        rows = [(i, json.loads(t)) for i, t in items]
        return [(i, d) for i, d in rows if matches(f, d)]

    def query(self, q: Query | None = None) -> list[tuple[str, dict[str, Any]]]:
        nq = normalize_query(q)
        rows = sort_rows(self._matching(nq.filter), nq.sort)
        end = None if nq.limit is None else nq.offset + nq.limit
        return rows[nq.offset:end]

    def count(self, filter: Filter | None = None) -> int:
        return len(self._matching(normalize_filter(filter)))

    def ensure_index(self, field: str) -> None:
        check_field(field)
        with self._store._lock:
            self._store._check()


def _restore(docs: dict[str, str], id: str, old: str | None) -> None:
    if old is None:
        docs.pop(id, None)
    else:
        docs[id] = old


def _drop_last(hist: list[tuple[float, str]]) -> None:
    hist.pop()


class MemoryRecord:
    def __init__(self, store: MemoryStore, name: str) -> None:
        self._store = store
        self.name = name

    def _hist(self) -> list[tuple[float, str]]:
        self._store._check()
        return self._store._records.setdefault(self.name, [])

    def get(self) -> dict[str, Any] | None:
        with self._store._lock:
            hist = self._hist()
            text = hist[-1][1] if hist else None
        return None if text is None else json.loads(text)

    def set(self, doc: dict[str, Any]) -> None:
        text = encode_doc(doc)
        with self._store._lock:
            hist = self._hist()
            hist.append((self._store._clock(), text))
            self._store._log(lambda: _drop_last(hist))

    def history(self, limit: int | None = None) -> list[tuple[float, dict[str, Any]]]:
        check_limit("history limit", limit)
        with self._store._lock:
            newest_first = list(reversed(self._hist()))
        if limit is not None:
            newest_first = newest_first[:limit]
        return [(ts, json.loads(t)) for ts, t in newest_first]
