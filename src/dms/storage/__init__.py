"""Storage: move a workload's inputs and outputs between this machine and URLs.

Public surface (implemented in the modules named, re-exported here)::

    open_storage(url, settings=None) -> Storage        registry.py
    Storage: scheme, fetch, put, exists, delete        contract.py
    StorageSettings(local=LocalSettings, s3=S3Settings)
    storage_type(url) -> "s3" | "local" | scheme      urls.py
    confine_relative(base, rel) -> Path                a path from an ensemble, kept inside base
    PathRefused, StorageError                          errors.py

``S3Storage`` and ``LocalStorage`` live in ``dms.storage.s3`` / ``dms.storage.local``.
"""

from __future__ import annotations

from pathlib import Path

from dms.storage.contract import Progress, Storage
from dms.storage.errors import PathRefused, StorageError
from dms.storage.local.settings import LocalSettings
from dms.storage.registry import STORAGES, open_storage
from dms.storage.s3.settings import S3Settings
from dms.storage.settings import StorageSettings
from dms.storage.urls import check_relative, storage_type


def confine_relative(base: Path, rel: str) -> Path:
    """``base / rel`` for a relative path from an ensemble (``StorageRef.path``).

    Refuses absolute paths and ``..`` (PathRefused). Pure: symlinks are checked when files
    are written, by the storages themselves.
    """
    return Path(base) / check_relative(rel.strip("/") if rel not in ("", "/") else rel)


__all__ = ["LocalSettings", "PathRefused", "Progress", "S3Settings", "STORAGES", "Storage",
           "StorageError", "StorageSettings", "confine_relative", "open_storage",
           "storage_type"]
