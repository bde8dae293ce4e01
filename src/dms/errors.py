"""The project's error tree.

Every error a user or a peer can see is a :class:`DMSError`: it carries a stable
``code``, a ``message`` that says what went wrong, a ``hint`` that says what to do
about it, and whether retrying may help. Errors cross the wire intact
(:meth:`DMSError.to_dict` / :func:`from_dict`) and come back out of the local API as
JSON with the same shape.

    DMSError
    ├── ConfigError            bad key, bad value, unreadable config file
    ├── KeystoreError          missing key, wrong passphrase, tampered file
    ├── StoreError             database problems
    │   └── NotFound
    ├── LockError              another daemon owns this home
    ├── DaemonNotRunning       the CLI could not reach a daemon
    ├── ValidationError        bad user input (sizes, specs, flags)
    ├── AuthError              signature, capability or token problems
    ├── NetworkError           dial, stream and protocol failures
    │   └── Timeout
    ├── ExecutorError          workload could not be run
    └── RemoteError            an error a peer answered with

Lower-level exceptions are translated at the layer boundary with ``raise X from exc``.
"""

from __future__ import annotations

from typing import Any, ClassVar

_BY_CODE: dict[str, type[DMSError]] = {}


class DMSError(Exception):
    """Base of every error dms raises on purpose."""

    code: ClassVar[str] = "internal"
    default_hint: ClassVar[str] = ""
    retryable: ClassVar[bool] = False

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        # every error class, wherever defined, is rebuilt by its code when it crosses the wire
        _BY_CODE.setdefault(cls.__dict__.get("code", cls.code), cls)

    def __init__(self, message: str, *, hint: str | None = None, code: str | None = None,
                 details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint if hint is not None else self.default_hint
        if code is not None:
            self.code = code  # type: ignore[misc]
        self.details = details or {}

    def __str__(self) -> str:
        return f"{self.message} (hint: {self.hint})" if self.hint else self.message

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"code": self.code, "message": self.message, "hint": self.hint,
                             "retryable": self.retryable}
        if self.details:
            d["details"] = self.details
        return d


class ConfigError(DMSError):
    code = "config"


class KeystoreError(DMSError):
    code = "keystore"


class StoreError(DMSError):
    code = "store"


class NotFound(StoreError):
    code = "not_found"


class LockError(DMSError):
    code = "locked"


class DaemonNotRunning(DMSError):
    code = "daemon_not_running"
    default_hint = "start one with `dms run` (or pass --home / --api-port to reach another)"


class ValidationError(DMSError):
    code = "invalid"


class AuthError(DMSError):
    code = "unauthorized"


class NetworkError(DMSError):
    code = "network"
    retryable = True


class Timeout(NetworkError):
    code = "timeout"


class ExecutorError(DMSError):
    code = "executor"


class RemoteError(DMSError):
    """An error a remote peer answered with; keeps the peer's code and hint."""

    code = "remote"


_BY_CODE.setdefault(DMSError.code, DMSError)


def from_dict(d: dict[str, Any]) -> DMSError:
    """Rebuild an error that crossed the wire; unknown codes become :class:`RemoteError`."""
    code = str(d.get("code", "remote"))
    cls = _BY_CODE.get(code, RemoteError)
    err = cls(str(d.get("message", "")), hint=d.get("hint") or "", code=code,
              details=d.get("details") or None)
    return err


def find_dms_error(exc: BaseException) -> DMSError | None:
    """The first DMSError in ``exc`` or inside its (nested) exception groups or causes."""
    seen: set[int] = set()
    stack = [exc]
    while stack:
        e = stack.pop(0)
        if id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, DMSError):
            return e
        if isinstance(e, BaseExceptionGroup):
            stack.extend(e.exceptions)
    return None
