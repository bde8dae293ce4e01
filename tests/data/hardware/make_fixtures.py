"""Writes the host fixtures under this directory (run it to regenerate them).

No GPU host was reachable when these were made, so they are composed, not captured:
the file names, value formats and JSON shapes follow the kernel's sysfs ABI (amdgpu
``mem_info_vram_total``, ``unique_id``; i915 ``lmem_total_bytes``), NVML's Python API
(``nvidia-ml-py``) and ``rocm-smi --json`` / ``xpu-smi discovery -j`` output as those
tools print it; the figures are those of the named products.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

HERE = Path(__file__).parent


def cpuinfo(n: int, vendor: str, family: int, model: int, name: str, mhz: float,
            cache_kb: int, cores: int) -> str:
    blocks = []
    for i in range(n):
        blocks.append("\n".join([
            f"processor\t: {i}", f"vendor_id\t: {vendor}", f"cpu family\t: {family}",
            f"model\t\t: {model}", f"model name\t: {name}", "stepping\t: 1",
            f"cpu MHz\t\t: {mhz:.3f}", f"cache size\t: {cache_kb} KB", "physical id\t: 0",
            f"siblings\t: {n}", f"core id\t\t: {i % cores}", f"cpu cores\t: {cores}",
            f"apicid\t\t: {i}", "fpu\t\t: yes", "flags\t\t: fpu vme de pse tsc msr pae sse sse2 avx avx2",
            f"bogomips\t: {mhz * 2:.2f}", "address sizes\t: 48 bits physical, 48 bits virtual", ""]))
    return "\n".join(blocks) + "\n"


def write(root: Path, rel: str, text: str) -> None:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)


def common(root: Path, *, cpu: str, ram_kb: int, arch: str, max_khz: int | None,
           base_khz: int | None, l3: str, disk: str, sectors: int, rotational: int,
           devnum: str) -> None:
    write(root, "proc/cpuinfo", cpu)
    write(root, "proc/meminfo", f"MemTotal:       {ram_kb} kB\nMemFree:        {ram_kb // 2} kB\n")
    write(root, "arch", arch + "\n")  # what `uname -m` said on the host
    if max_khz:
        write(root, "sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq", f"{max_khz}\n")
    if base_khz:
        write(root, "sys/devices/system/cpu/cpu0/cpufreq/base_frequency", f"{base_khz}\n")
    for i, (level, size) in enumerate([(1, "32K"), (1, "32K"), (2, "512K"), (3, l3)]):
        write(root, f"sys/devices/system/cpu/cpu0/cache/index{i}/level", f"{level}\n")
        write(root, f"sys/devices/system/cpu/cpu0/cache/index{i}/size", f"{size}\n")
    write(root, f"sys/block/{disk}/size", f"{sectors}\n")
    write(root, f"sys/block/{disk}/queue/rotational", f"{rotational}\n")
    write(root, "sys/block/loop0/size", "0\n")
    (root / "sys/dev/block").mkdir(parents=True, exist_ok=True)
    os.symlink(f"../../block/{disk}", root / "sys/dev/block" / devnum)


def drm_card(root: Path, card: int, *, vendor: str, device: str, slot: str,
             extra: dict[str, str]) -> None:
    base = f"sys/class/drm/card{card}/device"
    write(root, base + "/vendor", vendor + "\n")
    write(root, base + "/device", device + "\n")
    write(root, base + "/uevent", f"DRIVER=x\nPCI_CLASS=30000\nPCI_SLOT_NAME={slot}\n")
    for k, v in extra.items():
        write(root, k.replace("{card}", f"sys/class/drm/card{card}"), v + "\n")
    write(root, f"sys/class/drm/card{card}-DP-{card + 1}/status", "disconnected\n")


def nvidia() -> None:
    root = HERE / "nvidia"
    common(root, cpu=cpuinfo(8, "AuthenticAMD", 25, 1, "AMD EPYC 7J13 64-Core Processor",
                             2450.0, 512, 4), ram_kb=65_842_196, arch="x86_64",
           max_khz=3_673_000, base_khz=None, l3="32768K", disk="nvme0n1", sectors=1_000_215_216,
           rotational=0, devnum="259:0")
    devices = [
        {"name": "NVIDIA A100-SXM4-40GB", "uuid": "GPU-4b2f1e3a-8c7d-2e11-9f0a-6d5c4b3a2f10",
         "bus_id": "00000000:07:00.0", "memory_total": 42_949_672_960,
         "max_clock_sm": 1410, "max_clock_mem": 1215, "memory_bus_width": 5120,
         "utilization_gpu": 37, "utilization_memory": 12},
        {"name": "NVIDIA A100-SXM4-40GB", "uuid": "GPU-9e8d7c6b-5a4f-3e2d-1c0b-a9f8e7d6c5b4",
         "bus_id": "00000000:0F:00.0", "memory_total": 42_949_672_960,
         "max_clock_sm": 1410, "max_clock_mem": 1215, "memory_bus_width": 5120},
    ]
    (root / "nvml.json").write_text(json.dumps(
        {"driver_version": "535.154.05", "devices": devices}, indent=1) + "\n")


def amd() -> None:
    root = HERE / "amd"
    common(root, cpu=cpuinfo(16, "AuthenticAMD", 25, 1, "AMD EPYC 7763 64-Core Processor",
                             2450.0, 512, 8), ram_kb=131_916_004, arch="x86_64",
           max_khz=3_529_000, base_khz=None, l3="32768K", disk="sda", sectors=7_814_037_168,
           rotational=1, devnum="8:0")
    for card, slot, uid in ((0, "0000:03:00.0", "0x5e2d7a1c3b4f6e80"),
                            (1, "0000:83:00.0", "0x1a2b3c4d5e6f7081")):
        drm_card(root, card, vendor="0x1002", device="0x740f", slot=slot,
                 extra={"{card}/device/mem_info_vram_total": "68702699520",
                        "{card}/device/mem_info_vram_used": "10960896",
                        "{card}/device/unique_id": uid})
    write(root, "sys/class/drm/renderD128/dev", "226:128\n")
    smi = {f"card{i}": {"Card Series": "AMD Instinct MI210", "Card Model": "0x740f",
                        "Card Vendor": "Advanced Micro Devices, Inc. [AMD/ATI]",
                        "Card SKU": "D67301", "VRAM Total Memory (B)": "68702699520",
                        "VRAM Total Used Memory (B)": "10960896", "Unique ID": uid,
                        "PCI Bus": slot}
           for i, slot, uid in ((0, "0000:03:00.0", "0x5e2d7a1c3b4f6e80"),
                                (1, "0000:83:00.0", "0x1a2b3c4d5e6f7081"))}
    (root / "rocm-smi.json").write_text(json.dumps(smi, indent=1) + "\n")


def intel() -> None:
    root = HERE / "intel"
    common(root, cpu=cpuinfo(4, "GenuineIntel", 6, 151, "12th Gen Intel(R) Core(TM) i5-12400",
                             2500.0, 18432, 4), ram_kb=32_617_424, arch="x86_64",
           max_khz=4_400_000, base_khz=2_500_000, l3="18432K", disk="sda", sectors=976_773_168,
           rotational=0, devnum="8:0")
    drm_card(root, 0, vendor="0x8086", device="0x4692", slot="0000:00:02.0", extra={})
    drm_card(root, 1, vendor="0x8086", device="0x56a0", slot="0000:03:00.0",
             extra={"{card}/lmem_total_bytes": "17079205888"})
    # xpu-smi answers as recorded from the tool's JSON mode (used by one test only)
    (root / "xpu-smi.json").write_text(json.dumps({
        "discovery": {"device_list": [{"device_id": 0, "device_name": "Intel(R) Arc(TM) A770 Graphics",
                                       "device_type": "GPU", "pci_bdf_address": "0000:03:00.0",
                                       "pci_device_id": "0x56a0",
                                       "uuid": "00000000-0000-0003-0000-000856a08086",
                                       "vendor_name": "Intel(R) Corporation",
                                       "drm_device": "/dev/dri/card1"}]},
        "discovery -d 0": {"device_id": 0, "device_name": "Intel(R) Arc(TM) A770 Graphics",
                           "memory_physical_size_byte": "17079205888",
                           "pci_bdf_address": "0000:03:00.0"}}, indent=1) + "\n")


if __name__ == "__main__":
    for name in ("nvidia", "amd", "intel"):
        shutil.rmtree(HERE / name, ignore_errors=True)
    nvidia()
    amd()
    intel()
