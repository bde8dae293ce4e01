"""S3 storage over boto3: objects and prefixes, large files through the transfer manager.

    fetch(s3://b/p/, dest)   list_objects_v2(p/) ──▶ TransferManager.download ──▶ dest/**
    put(src, s3://b/p/)      walk src ──▶ TransferManager.upload ──▶ b/p/<rel>

Files at least ``multipart_threshold`` bytes move as multipart uploads and ranged gets;
all files of one call share one TransferManager (``max_concurrency`` threads). Waiting on
a transfer is cancellable: a cancelled fetch or put cancels its pending transfers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import trio
from boto3.s3.transfer import ProgressCallbackInvoker, create_transfer_manager
from botocore.exceptions import ClientError
from s3transfer.subscribers import BaseSubscriber

from dms.errors import NotFound
from dms.storage._files import file_target, source_kind, target_in, walk_files
from dms.storage.contract import Progress
from dms.storage.s3.client import make_client, transfer_config
from dms.storage.s3.errors import error_code, translate
from dms.storage.s3.settings import S3Settings
from dms.storage.urls import S3Url, parse_s3_url

log = logging.getLogger(__name__)
T = TypeVar("T")
Meta = tuple[int, str | None]  # an object's size and ETag


class S3Storage:
    scheme = "s3"

    def __init__(self, settings: S3Settings | None = None) -> None:
        self.settings = settings or S3Settings()
        self._limiter = trio.CapacityLimiter(self.settings.max_threads)
        self._client: Any = None
        self._creds = "not resolved yet"
        self._lock = trio.Lock()

    def __repr__(self) -> str:
        return f"S3Storage(endpoint={self._endpoint!r}, region={self.settings.region!r})"

    @property
    def _endpoint(self) -> str:
        return self.settings.endpoint_url or f"AWS S3 ({self.settings.region})"

    async def _get_client(self) -> Any:
        async with self._lock:
            if self._client is None:
                self._client, self._creds = await trio.to_thread.run_sync(
                    make_client, self.settings, limiter=self._limiter)
        return self._client

    async def _call(self, url: str, fn: Callable[..., T], *args: Any, **kw: Any) -> T:
        """Run one blocking SDK call in a worker thread; its errors become dms errors."""
        await self._get_client()
        try:
            return await trio.to_thread.run_sync(lambda: fn(*args, **kw), limiter=self._limiter)
        except Exception as exc:
            raise translate(exc, url, self._creds, self._endpoint) from exc

    # -- listing ---------------------------------------------------------------------------

    def _list(self, loc: S3Url) -> list[tuple[str, Meta]]:
        pages = self._client.get_paginator("list_objects_v2").paginate(
            Bucket=loc.bucket, Prefix=loc.key)
        return [(o["Key"], (int(o["Size"]), o.get("ETag")))
                for page in pages for o in page.get("Contents", [])]

    def _head(self, loc: S3Url) -> Meta | None:
        """The object's (size, etag), or None when there is no such object."""
        try:
            r = self._client.head_object(Bucket=loc.bucket, Key=loc.key)
            return int(r["ContentLength"]), r.get("ETag")
        except ClientError as exc:
            if error_code(exc) in ("404", "NoSuchKey", "NotFound"):
                return None
            raise

    async def _missing(self, url: str, loc: S3Url, what: str = "") -> NotFound:
        """NotFound for ``loc``, saying whether the bucket or the object is missing."""
        try:
            await self._call(url, lambda: self._client.head_bucket(Bucket=loc.bucket))
        except NotFound:
            return NotFound(f"S3 bucket {loc.bucket!r} of {url} does not exist",
                            hint="create the bucket or correct the bucket name in the URL")
        what = what or ("no objects under the prefix" if loc.is_prefix else "no S3 object at")
        return NotFound(f"{what} {url}", hint="check the key (list the bucket to see what is "
                        "there); a URL ending in '/' names a prefix")

    # -- transfers ---------------------------------------------------------------------------

    async def _transfer(self, url: str, jobs: list[tuple[str, dict[str, Any], Meta | None]],
                        progress: Progress | None) -> None:
        """Run ``jobs`` ((method, kwargs, known meta) for the TransferManager); wait for all."""
        client = await self._get_client()
        config = transfer_config(self.settings)

        def subscribers(meta: Meta | None) -> list[Any]:
            subs: list[Any] = [ProgressCallbackInvoker(progress)] if progress else []
            return subs + ([_Known(meta)] if meta is not None else [])

        def submit() -> tuple[Any, list[Any]]:
            tm = create_transfer_manager(client, config)
            return tm, [getattr(tm, m)(**kw, subscribers=subscribers(size))
                        for m, kw, size in jobs]

        tm, futures = await trio.to_thread.run_sync(submit, limiter=self._limiter)
        try:
            for fut, (_, kw, _size) in zip(futures, jobs, strict=True):
                what = f"s3://{kw['bucket']}/{kw['key']}"
                try:
                    await trio.to_thread.run_sync(  # type: ignore[call-arg]
                        partial(fut.result), abandon_on_cancel=True)
                except Exception as exc:
                    err = translate(exc, what, self._creds, self._endpoint)
                    if isinstance(err, NotFound):
                        err = await self._missing(what, S3Url(kw["bucket"], kw["key"]))
                    raise err from exc
        except BaseException:
            for fut in futures:
                fut.cancel()
            raise
        finally:
            with trio.CancelScope(shield=True):
                await trio.to_thread.run_sync(tm.shutdown)

    async def fetch(self, url: str, dest: Path, *, progress: Progress | None = None) -> list[Path]:
        loc = parse_s3_url(url)
        dest = Path(dest)
        asked = loc
        if not loc.is_prefix:
            meta = await self._call(url, self._head, loc)
            if meta is not None:
                target = await trio.to_thread.run_sync(file_target, dest, loc.name)
                await self._transfer(url, [("download", {"bucket": loc.bucket, "key": loc.key,
                                                         "fileobj": str(target)}, meta)], progress)
                return [target]
            loc = loc.as_prefix()  # s3://b/dir (no slash) names a "directory" too
        objects = await self._call(url, self._list, loc)
        objects = [(k, s) for k, s in objects if not k.endswith("/")]  # skip folder markers
        if not objects:
            raise await self._missing(url, loc, "" if asked.is_prefix else
                                      "no S3 object, nor objects under it as a prefix, at")

        def targets() -> list[Path]:
            dest.mkdir(parents=True, exist_ok=True)
            return [target_in(dest, k[len(loc.key):]) for k, _ in objects]

        paths = await trio.to_thread.run_sync(targets, limiter=self._limiter)
        await self._transfer(url, [("download", {"bucket": loc.bucket, "key": k,
                                                 "fileobj": str(p)}, meta)
                                   for (k, meta), p in zip(objects, paths, strict=True)],
                             progress)
        return sorted(paths)

    async def put(self, src: Path, url: str, *, progress: Progress | None = None) -> list[str]:
        loc = parse_s3_url(url)
        src = Path(src)
        kind = await trio.to_thread.run_sync(source_kind, src)
        if kind == "file":
            files = [(src, src.name)]
            keys = [loc.child(src.name) if loc.is_prefix else loc]
        else:
            files, _skipped = await trio.to_thread.run_sync(walk_files, src, limiter=self._limiter)
            keys = [loc.child(rel) for _, rel in files]
        await self._transfer(url, [("upload", {"bucket": k.bucket, "key": k.key,
                                               "fileobj": str(p)}, None)
                                   for (p, _), k in zip(files, keys, strict=True)], progress)
        return sorted(str(k) for k in keys)

    async def exists(self, url: str) -> bool:
        loc = parse_s3_url(url)
        if not loc.is_prefix and await self._call(url, self._head, loc) is not None:
            return True
        prefix = loc.as_prefix()

        def any_object() -> bool:
            r = self._client.list_objects_v2(Bucket=loc.bucket, Prefix=prefix.key, MaxKeys=1)
            return bool(r.get("KeyCount", 0))

        try:
            return await self._call(url, any_object)
        except NotFound:  # the bucket is missing
            return False

    async def delete(self, url: str) -> None:
        loc = parse_s3_url(url)
        if not loc.is_prefix:
            await self._call(url, lambda: self._client.delete_object(Bucket=loc.bucket,
                                                                     Key=loc.key))
            return
        keys = [k for k, _ in await self._call(url, self._list, loc)]
        for i in range(0, len(keys), 1000):
            batch = {"Objects": [{"Key": k} for k in keys[i:i + 1000]], "Quiet": True}
            r = await self._call(url, lambda b=batch: self._client.delete_objects(  # type: ignore[misc]
                Bucket=loc.bucket, Delete=b))
            if r.get("Errors"):
                e = r["Errors"][0]
                raise translate(ClientError({"Error": e}, "DeleteObjects"), url, self._creds,
                                self._endpoint)

    def close(self) -> None:
        """Close the client's connection pool (optional; a dropped storage frees it too)."""
        if self._client is not None:
            self._client.close()
            self._client = None




class _Known(BaseSubscriber):  # type: ignore[misc]
    """Tells the transfer manager an object's size and ETag (known from a listing or a
    HEAD) so it does not send a HEAD of its own per object."""

    def __init__(self, meta: Meta) -> None:
        self._size, self._etag = meta

    def on_queued(self, future: Any, **kwargs: Any) -> None:
        future.meta.provide_transfer_size(self._size)
        if self._etag is not None:
            future.meta.provide_object_etag(self._etag)
