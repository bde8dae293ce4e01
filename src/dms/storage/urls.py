"""Storage URLs, parsed without I/O.

    s3://bucket/key          one object
    s3://bucket/prefix/      every object under the prefix (a trailing ``/``, or no key)
    file:///abs/path         a file or directory on this machine (``file://localhost/...`` too)
    /abs/path                the same, as a plain absolute path

:func:`storage_type` names the implementation a URL needs (``"s3"``, ``"local"`` or the
URL's own scheme, which the registry then refuses). :func:`check_relative` is the one
gate every relative path (an object key below a prefix, a file below a tree) passes
before it is joined onto a directory.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import quote, unquote, urlsplit

from dms.errors import ValidationError
from dms.storage.errors import PathRefused

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")
SCHEME_TYPES: dict[str, str] = {"s3": "s3", "file": "local"}


def storage_type(url: str) -> str:
    """``"s3"`` for ``s3://``, ``"local"`` for ``file://`` and plain paths, else the scheme."""
    if "://" not in url:
        return "local"
    scheme = url.split("://", 1)[0].lower()
    return SCHEME_TYPES.get(scheme, scheme)


@dataclass(frozen=True)
class S3Url:
    bucket: str
    key: str = ""

    @property
    def is_prefix(self) -> bool:
        return self.key == "" or self.key.endswith("/")

    def as_prefix(self) -> S3Url:
        return self if self.is_prefix else S3Url(self.bucket, self.key + "/")

    def child(self, rel: str) -> S3Url:
        """The object ``rel`` (a checked relative path) below this prefix."""
        return S3Url(self.bucket, self.as_prefix().key + check_relative(rel))

    @property
    def name(self) -> str:
        return self.key.rstrip("/").rsplit("/", 1)[-1]

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def parse_s3_url(url: str) -> S3Url:
    if not url.lower().startswith("s3://"):
        raise ValidationError(f"not an S3 URL: {url!r}", hint="write s3://bucket/key or s3://bucket/prefix/")
    rest = url[5:]
    bucket, _, key = rest.partition("/")
    if not _BUCKET.match(bucket):
        raise ValidationError(
            f"invalid S3 bucket name {bucket!r} in {url!r}",
            hint="bucket names are 3-63 characters: lowercase letters, digits, '.' and '-'")
    return S3Url(bucket, key)


@dataclass(frozen=True)
class LocalUrl:
    path: PurePosixPath
    dir_hint: bool = False  # the URL ended with "/"

    def __str__(self) -> str:
        s = "file://" + quote(str(self.path))
        return s + "/" if self.dir_hint and not s.endswith("/") else s


def parse_local_url(url: str) -> LocalUrl:
    if "://" in url:
        parts = urlsplit(url)
        if parts.scheme.lower() != "file":
            raise ValidationError(f"not a local URL: {url!r}", hint="write file:///abs/path or /abs/path")
        if parts.netloc not in ("", "localhost"):
            raise ValidationError(f"file URL {url!r} names host {parts.netloc!r}",
                                  hint="local storage reaches this machine only: file:///abs/path")
        raw = unquote(parts.path)
    else:
        raw = url
    if not raw.startswith("/"):
        raise ValidationError(f"local storage paths must be absolute, got {url!r}",
                              hint="write file:///abs/path or /abs/path")
    if "\x00" in raw:
        raise ValidationError(f"NUL byte in path {url!r}", hint="remove it")
    return LocalUrl(PurePosixPath(raw), raw.endswith("/") and raw != "/")


def check_relative(rel: str) -> str:
    """``rel`` if it is a safe relative POSIX path below some directory, else PathRefused.

    Refused: empty, absolute, ``..`` or ``.`` segments, empty segments (``a//b``), NUL.
    """
    segments = rel.split("/")
    if (not rel or rel.startswith("/") or "\x00" in rel
            or any(s in ("", ".", "..") for s in segments)):
        raise PathRefused(f"refusing path {rel!r}: it could leave its target directory",
                          hint="object keys and file names below a prefix must not be absolute "
                               "or contain '.', '..' or empty segments")
    return rel


__all__ = ["LocalUrl", "S3Url", "SCHEME_TYPES", "check_relative", "parse_local_url",
           "parse_s3_url", "storage_type"]
