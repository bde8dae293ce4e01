"""ext4 disk images for getting files into and out of a guest, without root.

In:  ``mkfs.ext4 -d DIR`` builds a read-only inputs disk from a host directory.
Out: an empty ext4 results disk; after the guest exits ``debugfs -R 'rdump / OUT'``
     copies its files out (no loop mount, no root needed).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import trio

from dms.errors import ExecutorError

_MKFS_HINT = "install e2fsprogs (apt-get install -y e2fsprogs)"


async def _run(argv: list[str], what: str) -> subprocess.CompletedProcess[bytes]:
    try:
        res = await trio.run_process(argv, capture_stdout=True, capture_stderr=True,
                                     check=False)
    except FileNotFoundError as exc:
        raise ExecutorError(f"{argv[0]} not found ({what})", hint=_MKFS_HINT) from exc
    if res.returncode != 0:
        raise ExecutorError(f"{what} failed: {res.stderr.decode(errors='replace').strip()}",
                            hint=_MKFS_HINT)
    return res


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def _sparse_file(image: Path, size_bytes: int) -> None:
    with open(image, "wb") as f:
        f.truncate(size_bytes)


def _inputs_size(src: Path) -> int:
    if not src.is_dir():
        raise ExecutorError(f"inputs_dir {src} is not a directory",
                            hint="point inputs_dir at an existing directory")
    return max(16 << 20, int(dir_size(src) * 1.3) + (8 << 20))


async def make_results_disk(image: Path, size_bytes: int) -> None:
    _sparse_file(image, size_bytes)
    await _run(["mkfs.ext4", "-q", "-F", "-m", "0", "-O", "^has_journal", str(image)],
               "creating the results disk")


async def make_inputs_disk(image: Path, src: Path) -> None:
    size = await trio.to_thread.run_sync(_inputs_size, src)
    _sparse_file(image, size)
    await _run(["mkfs.ext4", "-q", "-F", "-m", "0", "-O", "^has_journal", "-d", str(src),
                str(image)], "creating the inputs disk")


async def collect_results(image: Path, dest: Path, scratch: Path) -> list[str]:
    """Copy every file on the results disk into ``dest``; returns the relative paths."""
    await trio.to_thread.run_sync(_fresh_dir, scratch)
    res = await _run(["debugfs", "-R", f"rdump / {scratch}", str(image)],
                     "reading the results disk")
    err = res.stderr.decode(errors="replace")
    if "rdump:" in err or "Bad magic" in err:
        raise ExecutorError(f"reading the results disk failed: {err.strip()}",
                            hint="the guest may have corrupted /results; see console.log")
    return await trio.to_thread.run_sync(_move_out, scratch, dest)


def _fresh_dir(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)


def _move_out(scratch: Path, dest: Path) -> list[str]:
    shutil.rmtree(scratch / "lost+found", ignore_errors=True)
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copytree(scratch, dest, dirs_exist_ok=True, symlinks=True)
    names = sorted(str(p.relative_to(scratch)) for p in scratch.rglob("*") if p.is_file())
    shutil.rmtree(scratch, ignore_errors=True)
    return names
