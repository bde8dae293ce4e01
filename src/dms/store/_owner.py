"""Which execution context owns a store's open transaction.

A transaction holds the store's re-entrant lock, so other threads wait. Tasks of one
event loop share a thread, though, and would walk straight into the open transaction if
its owner awaited inside it. Each context (a trio task, a thread) carries the set of
stores it has a transaction open on; any call from elsewhere while one is open fails
loudly instead of joining someone else's transaction.
"""

from __future__ import annotations

from contextvars import ContextVar, Token

from dms.errors import StoreError

_OPEN: ContextVar[frozenset[int]] = ContextVar("dms_store_open_transactions",
                                               default=frozenset())


def claim(store: object) -> Token[frozenset[int]]:
    return _OPEN.set(_OPEN.get() | {id(store)})


def release(token: Token[frozenset[int]]) -> None:
    _OPEN.reset(token)


def check_owner(store: object, depth: int) -> None:
    """Raise unless no transaction is open on ``store`` or the caller's context owns it."""
    if depth > 0 and id(store) not in _OPEN.get():
        raise StoreError(
            "a store transaction is open in another task on this thread",
            hint="do not await inside `with store.transaction():`; finish the transaction "
                 "first (it holds the store until it ends)")
