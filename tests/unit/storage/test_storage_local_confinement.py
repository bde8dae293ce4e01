"""Local storage refuses every path outside its allowed roots, however it is spelled."""

from __future__ import annotations

from pathlib import Path

import pytest

from dms.errors import ValidationError
from dms.storage import PathRefused, StorageError
from dms.storage.local import LocalSettings, LocalStorage

pytestmark = pytest.mark.unit


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    o = tmp_path / "outside"
    o.mkdir()
    (o / "secret.txt").write_bytes(b"secret")
    return o


async def test_paths_outside_the_roots_are_refused(local: LocalStorage, root: Path,
                                                   outside: Path, tmp_path: Path) -> None:
    for url in (str(outside / "secret.txt"), (outside / "secret.txt").as_uri(),
                f"{root}/../outside/secret.txt", f"file://{root}/../outside/secret.txt",
                "/etc/hostname", "/"):
        with pytest.raises(PathRefused) as info:
            await local.fetch(url, tmp_path / "got")
        assert str(root) in info.value.hint, info.value.hint
    assert not (tmp_path / "got").exists()


async def test_puts_outside_the_roots_are_refused(local: LocalStorage, root: Path,
                                                  outside: Path, tmp_path: Path) -> None:
    src = tmp_path / "f.txt"
    src.write_bytes(b"x")
    for url in (str(outside / "new.txt"), f"{root}/../outside/new.txt", f"{root}/a/../../x"):
        with pytest.raises(PathRefused):
            await local.put(src, url)
    assert not (outside / "new.txt").exists()


async def test_a_symlink_inside_a_root_cannot_lead_out(local: LocalStorage, root: Path,
                                                       outside: Path, tmp_path: Path) -> None:
    (root / "link").symlink_to(outside)
    (root / "filelink").symlink_to(outside / "secret.txt")
    src = tmp_path / "f.txt"
    src.write_bytes(b"x")
    with pytest.raises(PathRefused):
        await local.fetch(str(root / "link" / "secret.txt"), tmp_path / "a")
    with pytest.raises(PathRefused):
        await local.fetch(str(root / "filelink"), tmp_path / "b")
    with pytest.raises(PathRefused):
        await local.put(src, str(root / "link") + "/")
    with pytest.raises(PathRefused):
        await local.put(src, str(root / "filelink"))
    assert (outside / "secret.txt").read_bytes() == b"secret"
    assert _names(outside) == ["secret.txt"]


def _names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


async def test_links_in_a_root_tree_are_not_fetched(local: LocalStorage, root: Path,
                                                    outside: Path, tmp_path: Path) -> None:
    (root / "tree").mkdir()
    (root / "tree" / "ok.txt").write_bytes(b"ok")
    (root / "tree" / "leak").symlink_to(outside / "secret.txt")
    out = await local.fetch(str(root / "tree"), tmp_path / "dst")
    assert out == [tmp_path / "dst" / "ok.txt"]


async def test_the_root_itself_cannot_be_deleted(local: LocalStorage, root: Path) -> None:
    (root / "x").write_bytes(b"x")
    with pytest.raises(PathRefused):
        await local.delete(str(root))
    assert (root / "x").exists()


async def test_no_roots_refuses_everything_and_says_how_to_allow(tmp_path: Path) -> None:
    storage = LocalStorage()
    with pytest.raises(PathRefused) as info:
        await storage.exists(str(tmp_path))
    assert "storage.local.allowed_roots" in info.value.hint


def test_roots_must_be_absolute() -> None:
    with pytest.raises(ValueError, match="not an absolute path"):
        LocalSettings(allowed_roots=["relative"])


async def test_relative_urls_are_refused(local: LocalStorage) -> None:
    with pytest.raises(ValidationError, match="absolute"):
        await local.exists("some/relative/path")


async def test_os_errors_become_storage_errors(local: LocalStorage, root: Path,
                                              tmp_path: Path) -> None:
    (root / "d").mkdir()
    (root / "d" / "f.txt").write_bytes(b"f")
    blocker = tmp_path / "blocker"
    blocker.write_bytes(b"a file where a directory should go")
    with pytest.raises(StorageError) as info:
        await local.fetch(str(root / "d"), blocker)
    assert info.value.hint
