"""A tiny writer for the ``newc`` cpio format the Linux initramfs unpacker reads.

Pure Python, so building an initramfs needs neither root (file owners are set in the
archive, not on disk) nor the ``cpio`` binary. Concatenated gzip members of such
archives are what the kernel unpacks in order (later entries win), which is how a job
archive is appended to a base guest.
"""

from __future__ import annotations

import gzip
import io
import stat
from dataclasses import dataclass

_MAGIC = b"070701"


@dataclass(frozen=True)
class Entry:
    name: str            # path inside the archive, no leading "/"
    mode: int            # full st_mode (type bits + permissions)
    data: bytes = b""    # file contents, or the target of a symlink
    rdev: tuple[int, int] = (0, 0)   # (major, minor) of a device node


def file(name: str, data: bytes, perm: int = 0o644) -> Entry:
    return Entry(name.lstrip("/"), stat.S_IFREG | perm, data)


def directory(name: str, perm: int = 0o755) -> Entry:
    return Entry(name.lstrip("/"), stat.S_IFDIR | perm)


def symlink(name: str, target: str) -> Entry:
    return Entry(name.lstrip("/"), stat.S_IFLNK | 0o777, target.encode())


def chardev(name: str, major: int, minor: int, perm: int = 0o600) -> Entry:
    return Entry(name.lstrip("/"), stat.S_IFCHR | perm, b"", (major, minor))


def _pad(n: int) -> bytes:
    return b"\0" * ((4 - n % 4) % 4)


def _header(ino: int, mode: int, size: int, name: bytes, nlink: int,
            rdev: tuple[int, int] = (0, 0)) -> bytes:
    fields = [ino, mode, 0, 0, nlink, 0, size, 0, 0, rdev[0], rdev[1], len(name) + 1, 0]
    return _MAGIC + b"".join(b"%08X" % f for f in fields)


def archive(entries: list[Entry]) -> bytes:
    """The uncompressed newc archive of ``entries`` (with its trailer)."""
    out = io.BytesIO()
    for ino, e in enumerate(entries, start=1):
        name = e.name.encode()
        nlink = 2 if stat.S_ISDIR(e.mode) else 1
        hdr = _header(ino, e.mode, len(e.data), name, nlink, e.rdev) + name + b"\0"
        out.write(hdr + _pad(len(hdr)))
        out.write(e.data + _pad(len(e.data)))
    trailer = _header(0, 0, 0, b"TRAILER!!!", 1) + b"TRAILER!!!\0"
    out.write(trailer + _pad(len(trailer)))
    return out.getvalue()


def archive_gz(entries: list[Entry]) -> bytes:
    """The gzip-compressed archive (mtime 0, so equal inputs give equal bytes)."""
    return gzip.compress(archive(entries), compresslevel=6, mtime=0)


def parse(data: bytes) -> list[Entry]:
    """Read back an uncompressed newc archive (used by tests and for inspection)."""
    entries: list[Entry] = []
    pos = 0
    while True:
        if data[pos:pos + 6] != _MAGIC:
            raise ValueError(f"not a newc cpio archive at offset {pos}")
        fields = [int(data[pos + 6 + 8 * i: pos + 14 + 8 * i], 16) for i in range(13)]
        mode, size, namesize = fields[1], fields[6], fields[11]
        rdev = (fields[9], fields[10])
        pos += 110
        name = data[pos:pos + namesize - 1].decode()
        pos += namesize
        pos += (4 - pos % 4) % 4
        body = data[pos:pos + size]
        pos += size
        pos += (4 - pos % 4) % 4
        if name == "TRAILER!!!":
            return entries
        entries.append(Entry(name, mode, body, rdev))
