"""Settings of the microVM executor (a branch of the config tree)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class MicroVMSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state_dir: Path = Field(description="one directory per workload lives here")
    backend: Literal["auto", "qemu", "firecracker"] = Field(
        "auto", description="auto: firecracker when on PATH, else qemu")
    accel: Literal["auto", "kvm", "tcg"] = Field(
        "auto", description="QEMU accelerator; auto probes KVM once per host boot")
    qemu_binary: str = "qemu-system-x86_64"
    firecracker_binary: str = "firecracker"
    kernel: Path | None = Field(
        None, description="default guest kernel; None: newest /boot/vmlinuz-*-cloud-amd64")
    initrd: Path | None = Field(
        None, description="default guest initramfs; None: the dms guest (built and cached)")
    guest_cache_dir: Path | None = Field(
        None, description="where the dms guest is built; None: ~/.cache/dms/guest")
    accel_cache: Path | None = Field(
        None, description="KVM probe result cache; None: ~/.cache/dms/microvm-accel.json")
    kvm_probe_timeout_s: float = Field(
        5.0, gt=0, description="bound on the KVM probe boot (a KVM guest exits in < 1 s)")
    memory_mib: int = Field(256, ge=64, description="guest memory when Limits say nothing")
    min_memory_mib: int = Field(64, ge=32, description="smallest guest that boots")
    vcpus: int = Field(1, ge=1, description="vCPUs when Limits say nothing")
    results_disk_mib: int = Field(64, ge=4, description="results disk size by default")
    poll_interval_s: float = 0.05
