"""One registry of storages by name; :func:`open_storage` picks one by URL.

    "s3://b/k"   ──storage_type──▶ "s3"    ──STORAGES["s3"](settings)──▶ S3Storage
    "file:///p"  ──storage_type──▶ "local" ──STORAGES["local"](settings)──▶ LocalStorage
    "/p"         ──storage_type──▶ "local"
    "http://..." ──storage_type──▶ "http"  ──▶ ValidationError listing what is supported

Nothing registers itself at import time; the dict below is the whole wiring, and a
factory imports its implementation only when called.
"""

from __future__ import annotations

from collections.abc import Callable

from dms.errors import ValidationError
from dms.storage.contract import Storage
from dms.storage.settings import StorageSettings
from dms.storage.urls import storage_type


def _local(settings: StorageSettings) -> Storage:
    from dms.storage.local.storage import LocalStorage

    return LocalStorage(settings.local)


def _s3(settings: StorageSettings) -> Storage:
    from dms.storage.s3.storage import S3Storage

    return S3Storage(settings.s3)


STORAGES: dict[str, Callable[[StorageSettings], Storage]] = {"local": _local, "s3": _s3}
URL_FORMS: dict[str, str] = {"local": "file:///abs/path or /abs/path",
                             "s3": "s3://bucket/key or s3://bucket/prefix/"}


def open_storage(url: str, settings: StorageSettings | None = None) -> Storage:
    """The storage that handles ``url`` (a new instance: reuse it for many calls)."""
    kind = storage_type(url)
    factory = STORAGES.get(kind)
    if factory is None:
        supported = "; ".join(f"{k}: {URL_FORMS.get(k, k + '://...')}" for k in sorted(STORAGES))
        raise ValidationError(f"no storage for {kind!r} URLs ({url!r})",
                              hint=f"supported: {supported}")
    return factory(settings or StorageSettings())
