"""Confinement of local paths to the allowed roots (blocking: resolves symlinks)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from dms.storage._files import inside
from dms.storage.errors import PathRefused
from dms.storage.urls import LocalUrl


def resolve_roots(roots: Sequence[str]) -> list[Path]:
    return [Path(os.path.realpath(r)) for r in roots]


def confine(loc: LocalUrl, roots: Sequence[Path]) -> Path:
    """The resolved path of ``loc``, refused unless it lies inside one of ``roots``.

    ``..`` segments are refused outright; the rest is checked after resolving symlinks (a link inside a root that points outside is refused).
    """
    shown = ", ".join(map(str, roots)) or "none configured"
    hint = (f"allowed roots: {shown}; use a path below one of them, or add a root to "
            "storage.local.allowed_roots")
    if ".." in loc.path.parts:
        raise PathRefused(f"local path {loc.path} contains '..'", hint=hint)
    lexical = os.path.normpath(str(loc.path))
    real = os.path.realpath(lexical)
    if not any(inside(real, r) for r in roots):
        raise PathRefused(f"local path {loc.path} resolves to {real}, outside the allowed roots",
                          hint=hint)
    return Path(real)
