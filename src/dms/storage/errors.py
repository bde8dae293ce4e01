"""Errors of the storage layer (all :class:`dms.errors.DMSError`: message + hint).

Missing buckets and objects are :class:`dms.errors.NotFound`, refused credentials
:class:`dms.errors.AuthError`, unreachable endpoints :class:`dms.errors.NetworkError`;
those come from ``dms.errors`` unchanged. Two more live here:

    ValidationError
    └── PathRefused     a path outside the allowed roots, a symlink, a ``..`` escape
    DMSError
    └── StorageError    any other storage failure (an S3 error code we do not map)
"""

from __future__ import annotations

from dms.errors import DMSError, ValidationError


class PathRefused(ValidationError):
    """A path or key that would leave its confinement (allowed root, target directory)."""

    code = "storage_path_refused"


class StorageError(DMSError):
    code = "storage"


__all__ = ["PathRefused", "StorageError"]
