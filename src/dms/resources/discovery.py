"""Hardware discovery: what this machine has (CPU, RAM, disks, GPUs).

    discover(work_dir, probe) ──▶ Hardware{cpu, ram, disks, work_disk, work_free, gpus, notes}
        cpu    /proc/cpuinfo + /sys/devices/system/cpu (+ os.cpu_count when live)
        ram    /proc/meminfo (MemTotal)
        disks  /sys/block/*/size, queue/rotational (virtio disks: type "virtual")
        work   the filesystem holding the work dir (size, free, device type)
        gpus   dms.resources.gpus (NVML, amdgpu sysfs + rocm-smi, i915/xe sysfs + xpu-smi)

Nothing here raises for missing information: unknown figures are ``None`` and the reason
goes to ``Hardware.notes``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from dms.resources.gpus import discover_gpus
from dms.resources.model import CPU, GPU, RAM, Disk, Resources
from dms.resources.probe import Probe

_ARCH_ALIASES = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64",
                 "armv7l": "arm", "riscv64": "riscv64", "ppc64le": "ppc64le", "s390x": "s390x"}
_VENDORS = {"GenuineIntel": "intel", "AuthenticAMD": "amd", "0x41": "arm", "0x51": "qualcomm",
            "0x61": "apple", "0xc0": "ampere"}
_SKIP_BLOCK = ("loop", "ram", "zram", "dm-", "md", "sr", "fd", "nbd")


@dataclass(frozen=True)
class BlockDevice:
    name: str
    size: int
    type: str | None  # "ssd" | "hdd" | "virtual" | None


@dataclass(frozen=True)
class Hardware:
    """Everything discovery found. ``cpu.cores`` is physical cores; ``cpu.threads`` the
    logical CPUs (what can be onboarded: a container's CPU quota counts logical CPUs)."""

    cpu: CPU
    ram: RAM
    disks: tuple[BlockDevice, ...]
    work_dir: str
    work_disk: Disk  # size = filesystem total
    work_free: int  # bytes free on the work dir's filesystem
    gpus: tuple[GPU, ...]
    notes: tuple[str, ...] = ()

    def capacity(self) -> Resources:
        """The most that can be onboarded: all logical CPUs, all RAM, the free space of
        the work dir's filesystem, every GPU with its full VRAM."""
        cpu = CPU(cores=float(self.cpu.threads or self.cpu.cores), clock_speed_hz=self.cpu.clock_speed_hz,
                  architecture=self.cpu.architecture, model=self.cpu.model,
                  vendor=self.cpu.vendor, threads=self.cpu.threads,
                  cache_bytes=self.cpu.cache_bytes)
        disk = Disk(size=self.work_free, type=self.work_disk.type)
        return Resources(cpu=cpu, ram=self.ram, disk=disk, gpus=self.gpus)

    def fingerprint(self) -> str:
        """Changes when the hardware does (CPU, RAM, GPUs, work disk), not with free space."""
        key = {"cpu": [self.cpu.model, self.cpu.threads, self.cpu.architecture],
               "ram": self.ram.size, "disk": [self.work_disk.size, self.work_disk.type],
               "gpus": [[g.index, g.vendor, g.model, g.vram, g.uuid] for g in self.gpus]}
        return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Hardware:
        r = Resources.from_dict({"cpu": d["cpu"], "ram": d["ram"], "disk": d["work_disk"],
                                 "gpus": d.get("gpus")})
        return cls(cpu=r.cpu, ram=r.ram, disks=tuple(BlockDevice(**b) for b in d.get("disks", ())),
                   work_dir=d["work_dir"], work_disk=r.disk, work_free=int(d["work_free"]),
                   gpus=r.gpus, notes=tuple(d.get("notes", ())))


def discover(work_dir: str | Path, probe: Probe | None = None) -> Hardware:
    """Discover this machine (or the recorded one ``probe`` points at)."""
    p = probe or Probe()
    work = os.path.abspath(work_dir)
    total, free = p.disk_usage(work)
    return Hardware(cpu=discover_cpu(p), ram=discover_ram(p), disks=tuple(discover_disks(p)),
                    work_dir=work, work_disk=Disk(size=total, type=_work_disk_type(p, work)),
                    work_free=free, gpus=tuple(discover_gpus(p)), notes=tuple(p.notes))


# ---------------------------------------------------------------- cpu

def _cpuinfo_blocks(text: str) -> list[dict[str, str]]:
    blocks: list[dict[str, str]] = []
    for chunk in re.split(r"\n\s*\n", text.strip()):
        block = {}
        for line in chunk.splitlines():
            if ":" in line:
                k, _, v = line.partition(":")
                block[k.strip()] = v.strip()
        if block:
            blocks.append(block)
    return blocks


def discover_cpu(p: Probe) -> CPU:
    blocks = _cpuinfo_blocks(p.read("proc/cpuinfo") or "")
    procs = [b for b in blocks if "processor" in b]
    first = procs[0] if procs else (blocks[0] if blocks else {})
    threads = len(procs) or (os.cpu_count() if p.is_live else None)
    pairs = {(b.get("physical id", "0"), b.get("core id")) for b in procs if "core id" in b}
    cores = len(pairs) or _sysfs_cores(p) or threads or 0
    model = first.get("model name") or first.get("Model") or first.get("Hardware") \
        or p.read("proc/device-tree/model") or None
    vendor_id = first.get("vendor_id") or first.get("CPU implementer")
    vendor = _VENDORS.get(vendor_id or "", vendor_id.lower() if vendor_id else None)
    raw_arch = p.machine() if p.is_live else (p.read("arch") or "")
    arch = _ARCH_ALIASES.get(raw_arch, raw_arch or None)
    max_khz = p.read_int("sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq")
    base_khz = p.read_int("sys/devices/system/cpu/cpu0/cpufreq/base_frequency")
    mhz = first.get("cpu MHz")
    if max_khz:
        clock = max_khz * 1000
    elif base_khz:
        clock = base_khz * 1000
    elif mhz:
        clock = int(float(mhz) * 1e6)
        p.note("cpu clock from /proc/cpuinfo (current MHz; no cpufreq in sysfs)")
    else:
        clock = None
    return CPU(cores=float(cores), clock_speed_hz=clock, architecture=arch, model=model,
               vendor=vendor, threads=threads, cache_bytes=_cache_bytes(p, first))


def cpu_base_clock_hz(p: Probe) -> int | None:
    khz = p.read_int("sys/devices/system/cpu/cpu0/cpufreq/base_frequency") \
        or p.read_int("sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_min_freq")
    return khz * 1000 if khz else None


def _sysfs_cores(p: Probe) -> int:
    base = p.path("sys/devices/system/cpu")
    seen = set()
    for topo in base.glob("cpu[0-9]*/topology"):
        pkg = p.read(str(topo.relative_to(p.root) / "physical_package_id"))
        core = p.read(str(topo.relative_to(p.root) / "core_id"))
        if core is not None:
            seen.add((pkg, core))
    return len(seen)


def _size_text(text: str) -> int | None:
    m = re.match(r"^\s*(\d+)\s*([KMG]?)", text, re.I)
    if not m:
        return None
    return int(m.group(1)) * {"": 1, "K": 1024, "M": 2**20, "G": 2**30}[m.group(2).upper()]


def _cache_bytes(p: Probe, first: dict[str, str]) -> int | None:
    """Largest cache level from sysfs (per instance), else cpuinfo's ``cache size``."""
    best: tuple[int, int] | None = None
    for idx in p.path("sys/devices/system/cpu/cpu0/cache").glob("index*"):
        rel = str(idx.relative_to(p.root))
        level, size = p.read_int(rel + "/level"), _size_text(p.read(rel + "/size") or "")
        if level is not None and size is not None and (best is None or level > best[0]):
            best = (level, size)
    if best:
        return best[1]
    return _size_text(first.get("cache size", ""))


# ---------------------------------------------------------------- ram and disks

def discover_ram(p: Probe) -> RAM:
    for line in (p.read("proc/meminfo") or "").splitlines():
        if line.startswith("MemTotal:"):
            return RAM(size=int(line.split()[1]) * 1024)
    if p.is_live:
        import psutil

        return RAM(size=int(psutil.virtual_memory().total))
    p.note("no /proc/meminfo: RAM size unknown")
    return RAM(size=0)


def _block_type(p: Probe, name: str) -> str | None:
    dev_link = p.path(f"sys/block/{name}")
    try:
        target = os.readlink(dev_link)
    except OSError:
        target = ""
    if "virtio" in target or name.startswith("vd") or name.startswith("xvd"):
        return "virtual"  # virtio reports rotational=1 regardless of the backing store
    rot = p.read(f"sys/block/{name}/queue/rotational")
    return {"0": "ssd", "1": "hdd"}.get(rot or "")


def discover_disks(p: Probe) -> list[BlockDevice]:
    out = []
    base = p.path("sys/block")
    for dev in sorted(base.iterdir()) if base.is_dir() else []:
        if dev.name.startswith(_SKIP_BLOCK):
            continue
        sectors = p.read_int(f"sys/block/{dev.name}/size")
        if not sectors:
            continue
        out.append(BlockDevice(dev.name, sectors * 512, _block_type(p, dev.name)))
    return out


def _work_disk_type(p: Probe, work_dir: str) -> str | None:
    dev = p.stat_dev(work_dir)
    if dev is None:
        return None
    try:
        target = Path(os.path.realpath(p.path(f"sys/dev/block/{dev[0]}:{dev[1]}")))
    except OSError:
        return None
    if not target.exists():
        p.note(f"work dir is on device {dev[0]}:{dev[1]} with no block device (overlay/tmpfs?)")
        return None
    if (target / "partition").exists():
        target = target.parent
    if target.name.startswith(_SKIP_BLOCK):
        return None
    return _block_type(p, target.name)
