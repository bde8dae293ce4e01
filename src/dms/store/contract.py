"""The document store contract.

A store holds named collections of JSON documents keyed by a string id. Queries are
small trees of conditions over dotted field paths. Single-record collections keep one
current document and its change history. Calls are synchronous and short (SQLite in WAL
mode answers in microseconds); a write is atomic, and ``transaction()`` groups several
writes into one atomic unit (used for check-and-set, e.g. committing resources).

    Store ──collection(name)──▶ Collection ──put/get/delete/query/count
      │
      ├──record(name)──▶ Record ──get/set/history
      └──transaction()  (context manager: all writes inside commit together or not at all)
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

Op = Literal["EQ", "NE", "GT", "GTE", "LT", "LTE", "IN", "LIKE"]


@dataclass(frozen=True)
class Cond:
    """``field`` (dotted path into the document, e.g. ``"status"`` or ``"spec.cpu"``)
    compared with ``value``. ``IN`` takes a list; ``LIKE`` uses SQL wildcards ``%`` ``_``."""

    field: str
    op: Op
    value: Any


@dataclass(frozen=True)
class And:
    conds: tuple[Cond | And, ...]


Filter = Cond | And


def where(**eq: Any) -> Filter | None:
    """Shorthand: ``where(status="running", node="a")`` -> AND of EQs."""
    conds = tuple(Cond(k, "EQ", v) for k, v in eq.items())
    if not conds:
        return None
    return conds[0] if len(conds) == 1 else And(conds)


@dataclass(frozen=True)
class Query:
    filter: Filter | None = None
    sort: Sequence[tuple[str, Literal["asc", "desc"]]] = field(default_factory=tuple)
    limit: int | None = None
    offset: int = 0


@runtime_checkable
class Collection(Protocol):
    name: str

    def put(self, id: str, doc: dict[str, Any]) -> None:
        """Insert or replace the document ``id``."""

    def get(self, id: str) -> dict[str, Any] | None: ...

    def delete(self, id: str) -> bool:
        """True when something was deleted."""

    def query(self, q: Query | None = None) -> list[tuple[str, dict[str, Any]]]:
        """(id, document) pairs matching ``q``, sorted, then offset and limit applied."""

    def count(self, filter: Filter | None = None) -> int: ...

    def ensure_index(self, field: str) -> None:
        """Make equality/range queries on ``field`` fast (no-op where meaningless)."""


@runtime_checkable
class Record(Protocol):
    """A single-record collection that keeps its change history."""

    name: str

    def get(self) -> dict[str, Any] | None: ...

    def set(self, doc: dict[str, Any]) -> None: ...

    def history(self, limit: int | None = None) -> list[tuple[float, dict[str, Any]]]:
        """(unix time, document) pairs, newest first."""


@runtime_checkable
class Store(Protocol):
    def collection(self, name: str) -> Collection: ...

    def record(self, name: str) -> Record: ...

    def transaction(self) -> AbstractContextManager[None]: ...

    def collections(self) -> Iterator[str]: ...

    def close(self) -> None: ...
