"""Local file helpers shared by every storage (blocking: call them in a worker thread).

Two rules keep a workload's files from reaching outside what they name:

- trees are walked without following symlinks, and only regular files are taken; a
  symlink (or fifo, socket, device) in a tree is skipped and reported, so a workload
  cannot upload ``/etc/shadow`` by leaving a link to it in its results directory;
- every file written below a directory goes through :func:`target_in`: a checked
  relative path whose resolved parent stays inside the directory.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from dms.errors import NotFound
from dms.storage.errors import PathRefused
from dms.storage.urls import check_relative

log = logging.getLogger(__name__)


def inside(path: Path | str, root: Path | str) -> bool:
    """Whether ``path`` is ``root`` or below it (both taken as they are: resolve first)."""
    p, r = str(path), str(root).rstrip("/") or "/"
    return p == r or p.startswith(r + "/") or r == "/"


def source_kind(src: Path) -> str:
    """``"file"`` or ``"dir"`` for a put's source; refuses links and missing paths."""
    try:
        st = os.lstat(src)
    except FileNotFoundError:
        raise NotFound(f"nothing to upload at {src}", hint="check the path; the workload may "
                       "not have written it") from None
    if stat.S_ISLNK(st.st_mode):
        raise PathRefused(f"refusing to upload symlink {src}",
                          hint="upload regular files or directories; links are never followed")
    if stat.S_ISDIR(st.st_mode):
        return "dir"
    if stat.S_ISREG(st.st_mode):
        return "file"
    raise PathRefused(f"refusing to upload {src}: not a regular file or directory",
                      hint="only regular files and directories are transferred")


def walk_files(root: Path) -> tuple[list[tuple[Path, str]], list[Path]]:
    """Regular files below ``root`` as (path, relative POSIX path), sorted; and what was skipped."""
    files: list[tuple[Path, str]] = []
    skipped: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        base = Path(dirpath)
        for d in list(dirnames):
            if os.path.islink(base / d):
                dirnames.remove(d)
                skipped.append(base / d)
        for name in filenames:
            p = base / name
            if stat.S_ISREG(os.lstat(p).st_mode):
                files.append((p, p.relative_to(root).as_posix()))
            else:
                skipped.append(p)
    if skipped:
        log.warning("skipped %d symlinks or special files below %s (first: %s)",
                    len(skipped), root, skipped[0])
    files.sort(key=lambda f: f[1])
    return files, sorted(skipped)


def target_in(directory: Path, rel: str) -> Path:
    """``directory/rel`` with parents created, refused if it would resolve outside."""
    check_relative(rel)
    base = Path(os.path.realpath(directory))
    target = base / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    if not inside(os.path.realpath(target.parent), base):
        raise PathRefused(f"refusing to write {rel!r}: a symlink below {directory} leads outside it",
                          hint="remove the symlink from the target directory")
    if os.path.islink(target):
        raise PathRefused(f"refusing to write through symlink {target}",
                          hint="remove the symlink from the target directory")
    return target


def file_target(dest: Path, name: str) -> Path:
    """Where a single file named ``name`` lands for ``dest``: into it if it is a directory."""
    if dest.is_dir() and not dest.is_symlink():
        return target_in(dest, name)
    if dest.is_symlink():
        raise PathRefused(f"refusing to write through symlink {dest}", hint="pass a plain path")
    dest.parent.mkdir(parents=True, exist_ok=True)
    return dest


def copy_file(src: Path, dst: Path, progress: object = None) -> None:
    """Copy one regular file without following a link at either end; atomic at ``dst``."""
    from dms.storage.contract import report

    tmp = dst.with_name(f".{dst.name}.dms-part")
    fin = os.open(src, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        fout = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
        try:
            while chunk := os.read(fin, 1 << 20):
                os.write(fout, chunk)
                report(progress, len(chunk))
        finally:
            os.close(fout)
        os.replace(tmp, dst)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        os.close(fin)
