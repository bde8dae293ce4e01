"""The local document database: collections of JSON documents, records with history.

``open_store(path)`` gives the SQLite store (the embedded default) for a file path and
the in-memory store for ``None``. See README.md beside this file.
"""

from __future__ import annotations

from pathlib import Path

from dms.store.contract import And, Collection, Cond, Filter, Op, Query, Record, Store, where
from dms.store.memory import MemoryStore
from dms.store.sqlite import SQLiteStore

__all__ = [
    "And",
    "Collection",
    "Cond",
    "Filter",
    "MemoryStore",
    "Op",
    "Query",
    "Record",
    "SQLiteStore",
    "Store",
    "open_store",
    "where",
]


def open_store(path: Path | None) -> Store:
    """The SQLite store in the file ``path`` (created with its parent directories when
    missing), or a fresh in-memory store when ``path`` is None."""
    if path is None:
        return MemoryStore()
    return SQLiteStore(path)
