"""The VMM backend Protocol and the launch plan both backends receive (pure data)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import trio


@dataclass(frozen=True)
class Disk:
    role: Literal["results", "inputs", "root"]
    path: Path
    read_only: bool


@dataclass(frozen=True)
class LaunchPlan:
    """Everything a VMM needs to boot one workload."""

    workdir: Path
    kernel: Path
    initrd: Path | None
    cmdline: str                  # complete kernel command line
    disks: tuple[Disk, ...]
    memory_mib: int
    vcpus: int
    console: Path                 # where the serial console goes
    vmm_log: Path                 # where the VMM's own output goes
    network: bool = False         # give the guest a NIC (QEMU: user-mode networking)
    ports: tuple[tuple[int, int], ...] = ()   # (host port, guest port), TCP


class VMMBackend(Protocol):
    name: str                                # "qemu" | "firecracker"

    def available(self) -> bool:
        """True when the VMM binary is on PATH."""

    def accel(self) -> str:
        """"kvm" or "tcg"."""

    def base_cmdline(self) -> str:
        """Kernel arguments this VMM needs (console, reboot method, clock)."""

    def disk_names(self, disks: tuple[Disk, ...], has_initrd: bool) -> dict[str, str]:
        """role -> guest device name when the guest cannot read disk serials, else {}."""

    async def launch(self, plan: LaunchPlan) -> trio.Process:
        """Start the VMM (in its own session) and boot the guest."""
