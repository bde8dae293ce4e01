"""Local storage: copies within this machine, confined to the allowed roots.

    fetch(file:///root/in/, dest)   /root/in/**  ──copy──▶ dest/**
    put(src, file:///root/out/)     src/**       ──copy──▶ /root/out/**

The URL side is confined (it comes from an ensemble); ``src`` and ``dest`` are the
caller's own paths (the allocation's directories), whose trees are still walked without
following links.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import trio

from dms.errors import NotFound
from dms.storage._files import copy_file, file_target, source_kind, target_in, walk_files
from dms.storage.contract import Progress
from dms.storage.errors import PathRefused, StorageError
from dms.storage.local.confine import confine, resolve_roots
from dms.storage.local.settings import LocalSettings
from dms.storage.urls import parse_local_url


class LocalStorage:
    scheme = "local"

    def __init__(self, settings: LocalSettings | None = None) -> None:
        self.settings = settings or LocalSettings()
        self.roots = resolve_roots(self.settings.allowed_roots)
        self._limiter = trio.CapacityLimiter(self.settings.max_threads)

    def __repr__(self) -> str:
        return f"LocalStorage(roots={[str(r) for r in self.roots]})"

    def _path(self, url: str) -> tuple[Path, bool]:
        loc = parse_local_url(url)
        return confine(loc, self.roots), loc.dir_hint

    async def _run(self, fn, *args):  # type: ignore[no-untyped-def]
        try:
            return await trio.to_thread.run_sync(fn, *args, limiter=self._limiter)
        except FileNotFoundError as exc:
            raise NotFound(f"no such file or directory: {exc.filename}",
                           hint="check the path") from exc
        except OSError as exc:
            raise StorageError(f"local storage failed on {exc.filename}: {exc.strerror}",
                               hint="check the path's type and permissions on this "
                                    "machine") from exc

    async def fetch(self, url: str, dest: Path, *, progress: Progress | None = None) -> list[Path]:
        return await self._run(self._fetch, url, Path(dest), progress)  # type: ignore[no-any-return]

    def _fetch(self, url: str, dest: Path, progress: Progress | None) -> list[Path]:
        src, _ = self._path(url)
        if os.path.isdir(src):
            files, _skipped = walk_files(src)
            dest.mkdir(parents=True, exist_ok=True)
            out = []
            for path, rel in files:
                target = target_in(dest, rel)
                copy_file(path, target, progress)
                out.append(target)
            return out
        if not os.path.isfile(src):
            raise NotFound(f"nothing at {url}", hint="check the path; list the directory on the "
                           "provider to see what is there")
        target = file_target(dest, src.name)
        copy_file(src, target, progress)
        return [target]

    async def put(self, src: Path, url: str, *, progress: Progress | None = None) -> list[str]:
        return await self._run(self._put, Path(src), url, progress)  # type: ignore[no-any-return]

    def _put(self, src: Path, url: str, progress: Progress | None) -> list[str]:
        dst, dir_hint = self._path(url)
        kind = source_kind(src)
        if kind == "dir":
            files, _skipped = walk_files(src)
            if files:
                dst.mkdir(parents=True, exist_ok=True)
            out = []
            for path, rel in files:
                target = target_in(dst, rel)
                self._recheck(target)
                copy_file(path, target, progress)
                out.append(target.as_uri())
            return out
        if dir_hint or dst.is_dir():
            dst.mkdir(parents=True, exist_ok=True)
            target = target_in(dst, src.name)
        else:
            target = file_target(dst, src.name)
        self._recheck(target)
        copy_file(src, target, progress)
        return [target.as_uri()]

    def _recheck(self, target: Path) -> None:
        """After mkdir: the directory written into is still inside a root (no race won)."""
        confine(parse_local_url(str(target.parent)), self.roots)

    async def exists(self, url: str) -> bool:
        path, _ = await self._run(self._path, url)
        return bool(await self._run(os.path.exists, path))

    async def delete(self, url: str) -> None:
        await self._run(self._delete, url)

    def _delete(self, url: str) -> None:
        path, _ = self._path(url)
        if path in self.roots:
            raise PathRefused(f"refusing to delete the allowed root {path}",
                              hint="delete a path below the root instead")
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            try:
                path.unlink()
            except FileNotFoundError:
                pass
