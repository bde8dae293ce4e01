"""The storage contract: move files between this machine and a URL.

    fetch(url, dest)  url ──▶ dest      one object to a file, a prefix to a directory tree
    put(src, url)     src ──▶ url       one file to an object, a directory tree under a prefix
    exists(url)       is there an object (or, for a prefix, any object under it)?
    delete(url)       remove the object, or every object under the prefix (missing: no error)

Semantics every implementation keeps (the contract suite in :mod:`dms.testing.storage_contract`
checks them):

- A URL ending in ``/`` (or an existing local directory) names a prefix; a single file
  put there lands at ``prefix + file name``. A fetch of an object into an existing
  directory lands at ``dest/<object name>``.
- Only regular files move. Empty directories are not kept; symlinks in a source tree are
  skipped (never followed), a symlinked source is refused.
- Relative paths below a prefix never leave the target (``..`` keys are refused).
- Errors are :class:`dms.errors.DMSError`: NotFound (missing bucket, object, source
  file), AuthError (credentials refused; names their source, never their value),
  NetworkError (endpoint unreachable), PathRefused (outside the allowed roots).
- ``progress`` (optional) is called with the byte count of each chunk as it moves,
  from a worker thread: keep it cheap and thread-safe.
- Blocking work runs in worker threads (``trio.to_thread.run_sync``) bounded by the
  storage's CapacityLimiter.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol, runtime_checkable

Progress = Callable[[int], None]


@runtime_checkable
class Storage(Protocol):
    #: The registry name: ``"s3"`` or ``"local"``.
    scheme: str

    async def fetch(self, url: str, dest: Path, *, progress: Progress | None = None) -> list[Path]:
        """Copy what ``url`` names to ``dest``; the local files written, sorted."""
        ...

    async def put(self, src: Path, url: str, *, progress: Progress | None = None) -> list[str]:
        """Copy the file or tree ``src`` to ``url``; the URLs written, sorted."""
        ...

    async def exists(self, url: str) -> bool: ...

    async def delete(self, url: str) -> None: ...


def report(progress: object, n: int) -> None:
    if progress is not None and n:
        progress(n)  # type: ignore[operator]


__all__ = ["Progress", "Storage"]
