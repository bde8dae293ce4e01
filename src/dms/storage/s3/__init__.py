"""S3 storage: s3://bucket/key and s3://bucket/prefix/ over boto3.

``S3Storage`` is imported on first use: importing boto3 costs ~0.3 s, which a node
without S3 inputs should not pay.
"""

from __future__ import annotations

from typing import Any

from dms.storage.s3.settings import S3Settings


def __getattr__(name: str) -> Any:
    if name == "S3Storage":
        from dms.storage.s3.storage import S3Storage

        return S3Storage
    raise AttributeError(name)


__all__ = ["S3Settings", "S3Storage"]
