"""QEMU ``-M microvm`` backend: the measured recipe from MICROVM.md.

``tsc_early_khz`` (host ``cpu MHz`` x 1000) skips the PIT calibration that hangs TCG
boots under load; ``pit=off`` makes a forgotten ``tsc_early_khz`` hang every time
instead of sometimes. ``isa-debug-exit`` turns the guest's status into QEMU's exit code
(``2*status + 1``). KVM is used only when a bounded probe boot succeeds (nested PVM
``/dev/kvm`` hangs stock kernels), and the probe result is cached per host boot.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import BinaryIO

import trio

from dms.executor.microvm.backend import Disk, LaunchPlan

MACHINE = "microvm,x-option-roms=off,pit=off,pic=off,isa-serial=on,rtc=on"
BASE_CMDLINE = "console=ttyS0 reboot=t panic=-1 quiet"


def host_tsc_khz(cpuinfo: str | None = None) -> int | None:
    """``cpu MHz`` of the first CPU x 1000, from /proc/cpuinfo."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            return None
    for line in cpuinfo.splitlines():
        key, _, val = line.partition(":")
        if key.strip() == "cpu MHz":
            try:
                return int(float(val) * 1000)
            except ValueError:
                return None
    return None


def qemu_argv(binary: str, plan: LaunchPlan, accel: str) -> list[str]:
    """The full QEMU command line for ``plan`` (pure)."""
    for p in (plan.console, plan.kernel, *(d.path for d in plan.disks)):
        if "," in str(p):
            raise ValueError(f"path {p} contains a comma, which QEMU options cannot carry")
    argv = [binary, "-M", MACHINE, "-accel", accel]
    if accel == "kvm":
        argv += ["-cpu", "host"]
    argv += ["-m", str(plan.memory_mib), "-smp", str(plan.vcpus),
             "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
             "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
             "-device", "virtio-rng-device",
             "-serial", f"file:{plan.console}",
             "-kernel", str(plan.kernel)]
    if plan.initrd:
        argv += ["-initrd", str(plan.initrd)]
    argv += ["-append", plan.cmdline]
    if plan.network:
        netdev = "user,id=n0" + "".join(f",hostfwd=tcp::{h}-:{g}" for h, g in plan.ports)
        argv += ["-netdev", netdev, "-device", "virtio-net-device,netdev=n0"]
    for i, d in enumerate(plan.disks):
        drive = f"if=none,id=d{i},file={d.path},format=raw"
        if d.read_only:
            drive += ",readonly=on"
        argv += ["-drive", drive, "-device", f"virtio-blk-device,drive=d{i},serial=dms{d.role}"]
    return argv


def open_append(path: Path) -> BinaryIO:
    """Open a log file for a child's output (a quick local open; no need for a thread)."""
    return open(path, "ab")


def debug_exit_status(rc: int) -> int | None:
    """The guest status from QEMU's exit code (odd codes only; low 7 bits survive)."""
    if rc > 0 and rc % 2 == 1:
        return (rc - 1) // 2
    return None


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def probe_kvm(binary: str, kernel: Path, initrd: Path, timeout_s: float,
              cmdline: str = BASE_CMDLINE) -> bool:
    """Boot the guest under KVM straight into the exit helper; True if it exits cleanly."""
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return False
    argv = [binary, "-M", MACHINE, "-accel", "kvm", "-cpu", "host", "-m", "128", "-smp", "1",
            "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-serial", "null",
            "-kernel", str(kernel), "-initrd", str(initrd),
            "-append", cmdline + " rdinit=/bin/dms-exit"]
    try:
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
    except OSError:
        return False
    try:
        return proc.wait(timeout=timeout_s) == 1
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return False


class QemuBackend:
    name = "qemu"

    def __init__(self, *, binary: str = "qemu-system-x86_64", accel: str = "auto",
                 accel_cache: Path | None = None, probe_guest: tuple[Path, Path] | None = None,
                 probe_timeout_s: float = 10.0) -> None:
        self.binary = binary
        self._accel_setting = accel
        self._accel: str | None = None if accel == "auto" else accel
        self._cache = accel_cache
        self._probe_guest = probe_guest
        self._probe_timeout_s = probe_timeout_s
        self._tsc_khz = host_tsc_khz()

    def available(self) -> bool:
        return shutil.which(self.binary) is not None

    def accel(self) -> str:
        if self._accel is None:
            self._accel = self._cached_probe()
        return self._accel

    def _cached_probe(self) -> str:
        key = {"boot_id": _boot_id(), "binary": self.binary,
               "kernel": str(self._probe_guest[0]) if self._probe_guest else ""}
        if self._cache and self._cache.is_file():
            try:
                data = json.loads(self._cache.read_text())
                if {k: data.get(k) for k in key} == key and data.get("accel") in ("kvm", "tcg"):
                    return str(data["accel"])
            except (OSError, ValueError):
                pass
        ok = False
        if self._probe_guest:
            kernel, initrd = self._probe_guest
            ok = probe_kvm(self.binary, kernel, initrd, self._probe_timeout_s,
                           self.base_cmdline())
        accel = "kvm" if ok else "tcg"
        if self._cache:
            try:
                self._cache.parent.mkdir(parents=True, exist_ok=True)
                tmp = self._cache.with_suffix(f".{os.getpid()}.tmp")
                tmp.write_text(json.dumps({**key, "accel": accel}))
                os.replace(tmp, self._cache)
            except OSError:
                pass
        return accel

    def base_cmdline(self) -> str:
        tsc = f" tsc_early_khz={self._tsc_khz}" if self._tsc_khz else ""
        return BASE_CMDLINE + tsc

    def disk_names(self, disks: tuple[Disk, ...], has_initrd: bool) -> dict[str, str]:
        return {}  # the guest finds QEMU's disks by serial

    async def launch(self, plan: LaunchPlan) -> trio.Process:
        argv = qemu_argv(self.binary, plan, self.accel())
        with open_append(plan.vmm_log) as log:
            return await trio.lowlevel.open_process(
                argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                start_new_session=True)
