"""Local storage: file:// URLs and plain absolute paths, confined to allowed roots."""

from __future__ import annotations

from dms.storage.local.settings import LocalSettings
from dms.storage.local.storage import LocalStorage

__all__ = ["LocalSettings", "LocalStorage"]
