"""Translate libp2p failures into dms errors at the network boundary.

py-libp2p raises its own exception tree, plain ``OSError``/``ValueError`` and, through
its nurseries, deeply nested ``ExceptionGroup``s. Nothing of that leaves
:mod:`dms.network`: callers see :class:`dms.errors.NetworkError` or
:class:`dms.errors.Timeout`, chained (``raise ... from exc``) to the original.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import trio
from libp2p.exceptions import BaseLibp2pError

from dms.errors import DMSError, NetworkError, Timeout

# Exceptions that are a failure of the network, not a bug in our code.
NETWORK_EXCEPTIONS: tuple[type[BaseException], ...] = (
    BaseLibp2pError, OSError, EOFError, ValueError, trio.BrokenResourceError,
    trio.ClosedResourceError, trio.TooSlowError, ConnectionError,
)


def leaves(exc: BaseException) -> list[BaseException]:
    """The non-group exceptions inside (possibly nested) exception groups."""
    if isinstance(exc, BaseExceptionGroup):
        out: list[BaseException] = []
        for sub in exc.exceptions:
            out.extend(leaves(sub))
        return out
    return [exc]


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:200]}" if text else type(exc).__name__


def translate(exc: BaseException, what: str, *, hint: str | None = None) -> DMSError:
    """Build the dms error for a low-level failure of ``what`` (e.g. "dial 12D3...")."""
    found = leaves(exc)
    for leaf in found:
        if isinstance(leaf, DMSError):
            return leaf
    if any(isinstance(leaf, trio.TooSlowError | TimeoutError) for leaf in found):
        return Timeout(f"{what}: timed out", hint=hint or "the peer may be down or "
                       "unreachable; check its address and that it is running")
    reason = "; ".join(_describe(leaf) for leaf in found[:3])
    return NetworkError(f"{what} failed: {reason}", hint=hint or "check the peer address, "
                        "that the peer runs, and that both sides use the same network key")


def is_network_failure(exc: BaseException) -> bool:
    """True when every leaf of ``exc`` is a network-level failure (not cancellation)."""
    found = leaves(exc)
    return bool(found) and all(isinstance(leaf, NETWORK_EXCEPTIONS) for leaf in found)


@contextmanager
def network_errors(what: str, *, hint: str | None = None) -> Iterator[None]:
    """Context manager: re-raise libp2p failures inside as dms errors.

    Cancellation (``trio.Cancelled``) and groups holding it pass through untouched.
    """
    try:
        yield
    except DMSError:
        raise
    except BaseExceptionGroup as eg:
        if any(isinstance(leaf, trio.Cancelled | KeyboardInterrupt) for leaf in leaves(eg)):
            raise
        raise translate(eg, what, hint=hint) from eg
    except NETWORK_EXCEPTIONS as exc:
        raise translate(exc, what, hint=hint) from exc
