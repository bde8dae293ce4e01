"""Build the dms test guest for the microVM executor: a kernel and an initramfs.

The kernel is the host's Debian cloud kernel (``/boot/vmlinuz-*-cloud-amd64``, package
``linux-image-cloud-amd64``). The initramfs is built here, idempotently and cached:

    initramfs.cpio.gz
      /init                     the dms guest init (guest_protocol.INIT_SCRIPT)
      /bin/busybox + symlinks   busybox-static and all its applets
      /bin/dms-exit             static helper writing to the isa-debug-exit port
      /lib/modules/dms/*.ko     virtio, virtio_ring, virtio_mmio, virtio_blk, virtio-rng,
                                virtio_net and their dependencies; ``order`` = load order
      /dev/console              so /init has a console before devtmpfs is mounted

Used by tests, benchmarks and ``dms testnet``: ``guest = build_guest()`` then
``WorkloadSpec(kernel=guest.kernel, initrd=guest.initrd, ...)`` (or leave both unset
and let :class:`~dms.executor.microvm.MicroVMExecutor` use this guest by default).
"""

from __future__ import annotations

import hashlib
import lzma
import os
import re
import shutil
import struct
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from dms.errors import ExecutorError
from dms.executor.microvm import cpio
from dms.executor.microvm.guest_protocol import EXIT_HELPER_C, INIT_SCRIPT, MODULES

BUSYBOX_CANDIDATES = ("/bin/busybox", "/usr/bin/busybox")


@dataclass(frozen=True)
class Guest:
    kernel: Path
    initrd: Path
    kernel_version: str


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "dms" / "guest"


def find_kernel(boot: Path = Path("/boot")) -> tuple[Path, str]:
    """The newest cloud kernel in ``boot`` (else the newest kernel), with its version."""
    kernels = sorted(boot.glob("vmlinuz-*-cloud-amd64")) or sorted(boot.glob("vmlinuz-*"))
    if not kernels:
        raise ExecutorError(f"no guest kernel in {boot}",
                            hint="install one: apt-get install -y linux-image-cloud-amd64")
    k = kernels[-1]
    return k, k.name.removeprefix("vmlinuz-")


def is_static_elf(path: Path) -> bool:
    """True when ``path`` is an ELF64 without a PT_INTERP segment (statically linked)."""
    with open(path, "rb") as f:
        head = f.read(64)
        if head[:4] != b"\x7fELF" or head[4] != 2:
            return False
        phoff, = struct.unpack_from("<Q", head, 32)
        phentsize, phnum = struct.unpack_from("<HH", head, 54)
        f.seek(phoff)
        table = f.read(phentsize * phnum)
    return all(struct.unpack_from("<I", table, i * phentsize)[0] != 3 for i in range(phnum))


def find_busybox() -> Path:
    for c in BUSYBOX_CANDIDATES:
        p = Path(c)
        if p.exists() and is_static_elf(p):
            return p
    raise ExecutorError("no statically linked busybox found",
                        hint="install it: apt-get install -y busybox-static")


def module_closure(modules_dir: Path, names: tuple[str, ...]) -> list[Path]:
    """Module files for ``names`` plus their dependencies, dependencies first."""
    deps: dict[str, list[str]] = {}
    for line in (modules_dir / "modules.dep").read_text().splitlines():
        path, _, rest = line.partition(":")
        deps[path] = rest.split()
    by_name = {re.sub(r"\.ko(\.xz|\.zst|\.gz)?$", "", Path(p).name): p for p in deps}
    order: list[str] = []

    def visit(p: str) -> None:
        for d in deps.get(p, []):
            visit(d)
        if p not in order:
            order.append(p)

    for n in names:
        if n in by_name:
            visit(by_name[n])
    return [modules_dir / p for p in order]


def _read_module(path: Path) -> bytes:
    data = path.read_bytes()
    if path.suffix == ".xz":
        return lzma.decompress(data)
    if path.suffix == ".zst":
        return subprocess.run(["zstd", "-dc", str(path)], check=True,
                              capture_output=True).stdout
    if path.suffix == ".gz":
        import gzip
        return gzip.decompress(data)
    return data


def compile_exit_helper(out: Path) -> None:
    src = out.with_suffix(".c")
    src.write_text(EXIT_HELPER_C)
    cmd = ["gcc", "-static", "-nostdlib", "-O2", "-fno-stack-protector", "-fno-pie",
           "-no-pie", "-o", str(out), str(src)]
    try:
        subprocess.run(cmd, check=True, capture_output=True, text=True)
    except FileNotFoundError as exc:
        raise ExecutorError("gcc not found (needed for the guest exit helper)",
                            hint="apt-get install -y gcc") from exc
    except subprocess.CalledProcessError as exc:
        raise ExecutorError(f"compiling the guest exit helper failed: {exc.stderr}",
                            hint="check that gcc can build static x86-64 binaries") from exc


def _busybox_applets(busybox: Path) -> list[str]:
    out = subprocess.run([str(busybox), "--list-full"], check=True, capture_output=True,
                         text=True).stdout
    return [a for a in out.split() if a and a != "bin/busybox"]


def initramfs_entries(busybox: Path, helper: Path, modules: list[Path]) -> list[cpio.Entry]:
    entries = [cpio.directory(d) for d in (
        "bin", "sbin", "usr", "usr/bin", "usr/sbin", "dev", "proc", "sys", "tmp",
        "lib", "lib/modules", "lib/modules/dms", "results", "inputs", "rootfs", "dms")]
    entries.append(cpio.chardev("dev/console", 5, 1))
    entries.append(cpio.chardev("dev/null", 1, 3, 0o666))
    entries.append(cpio.file("bin/busybox", busybox.read_bytes(), 0o755))
    entries += [cpio.symlink(a, "/bin/busybox") for a in _busybox_applets(busybox)]
    entries.append(cpio.file("bin/dms-exit", helper.read_bytes(), 0o755))
    order = []
    for m in modules:
        name = re.sub(r"\.ko(\.xz|\.zst|\.gz)?$", "", m.name)
        order.append(name)
        entries.append(cpio.file(f"lib/modules/dms/{name}.ko", _read_module(m)))
    entries.append(cpio.file("lib/modules/dms/order", ("\n".join(order) + "\n").encode()))
    entries.append(cpio.file("init", INIT_SCRIPT.encode(), 0o755))
    return entries


def _fingerprint(kernel: Path, busybox: Path, modules: list[Path]) -> str:
    h = hashlib.sha256()
    for p in (kernel, busybox, *modules):
        st = p.stat()
        h.update(f"{p}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    h.update(INIT_SCRIPT.encode())
    h.update(EXIT_HELPER_C.encode())
    return h.hexdigest()[:16]


def build_guest(cache_dir: Path | None = None, *, boot: Path = Path("/boot"),
                lib_modules: Path = Path("/lib/modules")) -> Guest:
    """Return the cached guest, building it first when missing or out of date.

    Safe to call from parallel processes: each build goes to a temporary directory that
    is renamed into place.
    """
    cache = Path(cache_dir) if cache_dir else default_cache_dir()
    kernel, version = find_kernel(boot)
    busybox = find_busybox()
    mod_dir = lib_modules / version
    if not (mod_dir / "modules.dep").exists():
        raise ExecutorError(f"no modules for kernel {version} in {mod_dir}",
                            hint="install the matching linux-image package")
    modules = module_closure(mod_dir, MODULES)
    missing = {"virtio", "virtio_ring", "virtio_mmio", "virtio_blk"} - {
        re.sub(r"\.ko.*$", "", m.name) for m in modules}
    if missing:
        raise ExecutorError(f"kernel {version} lacks modules {sorted(missing)}",
                            hint="use a Debian cloud kernel (linux-image-cloud-amd64)")
    final = cache / _fingerprint(kernel, busybox, modules)
    initrd = final / "initramfs.cpio.gz"
    if not initrd.exists():
        cache.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=cache))
        try:
            helper = tmp / "dms-exit"
            compile_exit_helper(helper)
            entries = initramfs_entries(busybox, helper, modules)
            (tmp / "initramfs.cpio.gz").write_bytes(cpio.archive_gz(entries))
            try:
                os.rename(tmp, final)
            except OSError:
                if not initrd.exists():  # lost a race only if the winner finished
                    raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return Guest(kernel=kernel, initrd=initrd, kernel_version=version)
