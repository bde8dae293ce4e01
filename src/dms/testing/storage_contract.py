"""The storage contract suite: one set of tests every Storage must pass.

Subclass :class:`StorageContract` in a test module (class name starting with ``Test``)
and provide two fixtures::

    storage     the Storage under test
    base_url    an empty prefix URL ending in "/" that the storage may write below
                (file:///.../root/ inside an allowed root, s3://bucket/ of a fresh bucket)

pytest's ``tmp_path`` supplies the local side. Like ``trio.testing``'s stream checks,
the suite ships in the package so that any storage, in or out of this tree, can be held
to the same contract. Assertions carry messages: this module is not assertion-rewritten.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

from dms.errors import NotFound
from dms.storage.contract import Storage
from dms.storage.errors import PathRefused

MiB = 1024 * 1024
TREE = {"a.txt": b"alpha\n", "sub/b.bin": bytes(range(256)) * 4, "sub/deeper/c.txt": b"gamma",
        "with space.txt": b"spaces survive"}


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(MiB):
            h.update(chunk)
    return h.hexdigest()


def write_tree(root: Path, tree: dict[str, bytes] = TREE) -> Path:
    for rel, data in tree.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return root


def write_random(path: Path, size: int) -> Path:
    with open(path, "wb") as f:
        for _ in range(size // MiB):
            f.write(os.urandom(MiB))
        f.write(os.urandom(size % MiB))
    return path


def read_tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


class Counter:
    """A thread-safe progress callback."""

    def __init__(self) -> None:
        self.total = 0
        self._lock = threading.Lock()

    def __call__(self, n: int) -> None:
        with self._lock:
            self.total += n


class StorageContract:
    async def test_put_and_fetch_a_file(self, storage: Storage, base_url: str,
                                        tmp_path: Path) -> None:
        src = tmp_path / "a.txt"
        src.write_bytes(b"hello storage\n")
        urls = await storage.put(src, base_url + "one/a.txt")
        assert len(urls) == 1 and urls[0].endswith("one/a.txt"), urls
        assert await storage.exists(base_url + "one/a.txt")
        out = await storage.fetch(base_url + "one/a.txt", tmp_path / "got" / "x.txt")
        assert out == [tmp_path / "got" / "x.txt"], out
        assert out[0].read_bytes() == b"hello storage\n"

    async def test_a_file_put_to_a_prefix_keeps_its_name(self, storage: Storage, base_url: str,
                                                         tmp_path: Path) -> None:
        src = tmp_path / "named.txt"
        src.write_bytes(b"n")
        urls = await storage.put(src, base_url + "dir/")
        assert len(urls) == 1 and urls[0].endswith("dir/named.txt"), urls
        into = tmp_path / "into"
        into.mkdir()
        out = await storage.fetch(base_url + "dir/named.txt", into)
        assert out == [into / "named.txt"], out

    async def test_directory_tree_round_trip(self, storage: Storage, base_url: str,
                                             tmp_path: Path) -> None:
        src = write_tree(tmp_path / "src")
        urls = await storage.put(src, base_url + "tree/")
        assert len(urls) == len(TREE), urls
        assert all(any(u.endswith(rel.replace(" ", "%20")) or u.endswith(rel) for u in urls)
                   for rel in TREE), urls
        out = await storage.fetch(base_url + "tree/", tmp_path / "dst")
        assert len(out) == len(TREE), out
        assert read_tree(tmp_path / "dst") == TREE, read_tree(tmp_path / "dst")

    async def test_a_prefix_without_slash_fetches_the_tree(self, storage: Storage, base_url: str,
                                                            tmp_path: Path) -> None:
        await storage.put(write_tree(tmp_path / "src"), base_url + "t2/")
        await storage.fetch(base_url + "t2", tmp_path / "dst")
        assert read_tree(tmp_path / "dst") == TREE

    async def test_binary_content_round_trip(self, storage: Storage, base_url: str,
                                             tmp_path: Path) -> None:
        src = tmp_path / "blob.bin"
        src.write_bytes(os.urandom(MiB) + bytes(range(256)) + b"\r\n\x00\x1a")
        await storage.put(src, base_url + "blob.bin")
        out = await storage.fetch(base_url + "blob.bin", tmp_path / "back.bin")
        assert sha256(out[0]) == sha256(src), "binary content changed in a round trip"

    async def test_large_file_with_progress(self, storage: Storage, base_url: str,
                                            tmp_path: Path) -> None:
        size = 20 * MiB + 123
        src = tmp_path / "large.bin"
        write_random(src, size)
        up, down = Counter(), Counter()
        await storage.put(src, base_url + "large/large.bin", progress=up)
        out = await storage.fetch(base_url + "large/large.bin", tmp_path / "l2.bin",
                                  progress=down)
        assert up.total == size, f"put reported {up.total} of {size} bytes"
        assert down.total == size, f"fetch reported {down.total} of {size} bytes"
        assert out[0].stat().st_size == size and sha256(out[0]) == sha256(src)

    async def test_exists_and_delete(self, storage: Storage, base_url: str,
                                     tmp_path: Path) -> None:
        src = tmp_path / "d.txt"
        src.write_bytes(b"d")
        await storage.put(src, base_url + "del/d.txt")
        await storage.put(write_tree(tmp_path / "t"), base_url + "del/tree/")
        assert await storage.exists(base_url + "del/d.txt")
        assert await storage.exists(base_url + "del/tree/")
        await storage.delete(base_url + "del/d.txt")
        assert not await storage.exists(base_url + "del/d.txt")
        await storage.delete(base_url + "del/d.txt")  # deleting what is gone is no error
        await storage.delete(base_url + "del/tree/")
        assert not await storage.exists(base_url + "del/tree/")
        assert not await storage.exists(base_url + "del/tree/sub/b.bin")

    async def test_missing_object_is_not_found(self, storage: Storage, base_url: str,
                                               tmp_path: Path) -> None:
        url = base_url + "no/such/object.txt"
        assert not await storage.exists(url)
        try:
            await storage.fetch(url, tmp_path / "x")
        except NotFound as exc:
            assert "no/such/object.txt" in exc.message, exc.message
            assert exc.hint, "NotFound without a hint"
        else:
            raise AssertionError("fetching a missing object did not raise NotFound")
        assert not (tmp_path / "x").exists(), "a failed fetch left a file behind"

    async def test_missing_source_is_not_found(self, storage: Storage, base_url: str,
                                               tmp_path: Path) -> None:
        try:
            await storage.put(tmp_path / "absent", base_url + "absent")
        except NotFound as exc:
            assert "absent" in exc.message, exc.message
        else:
            raise AssertionError("putting a missing file did not raise NotFound")

    async def test_symlinks_are_never_followed_on_put(self, storage: Storage, base_url: str,
                                                      tmp_path: Path) -> None:
        secret = tmp_path / "outside-secret.txt"
        secret.write_bytes(b"do not upload")
        src = write_tree(tmp_path / "results", {"ok.txt": b"ok"})
        (src / "leak.txt").symlink_to(secret)
        (src / "leakdir").symlink_to(tmp_path)
        urls = await storage.put(src, base_url + "res/")
        assert len(urls) == 1 and urls[0].endswith("res/ok.txt"), urls
        assert not await storage.exists(base_url + "res/leak.txt")
        try:
            await storage.put(src / "leak.txt", base_url + "res/leak.txt")
        except PathRefused:
            pass
        else:
            raise AssertionError("a symlinked source was uploaded")
        assert not await storage.exists(base_url + "res/leak.txt")
