"""GPU discovery per vendor. Indices: NVIDIA GPUs first in NVML order, then AMD, then
Intel, each in DRM card order; ``GPU.index`` is that global position (0, 1, ...).

    nvidia  NVML (pynvml from nvidia-ml-py); absent library/driver -> none, with a note
    amd     /sys/class/drm/cardN/device (vendor 0x1002, mem_info_vram_total, unique_id)
            + `rocm-smi --showproductname --showmeminfo vram --showuniqueid --showbus --json`
    intel   /sys/class/drm/cardN/device (vendor 0x8086) + `xpu-smi discovery -j` when present;
            integrated GPUs have no VRAM of their own and report vram=0
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

from dms.resources.model import GPU
from dms.resources.probe import Probe, nvml_session

AMD_VENDOR, INTEL_VENDOR, NVIDIA_VENDOR = "0x1002", "0x8086", "0x10de"
_AMD_MODELS = {0x740F: "AMD Instinct MI210", 0x740C: "AMD Instinct MI250X/MI250",
               0x74A1: "AMD Instinct MI300X", 0x738C: "AMD Instinct MI100",
               0x744C: "AMD Radeon RX 7900 XT/XTX", 0x73BF: "AMD Radeon RX 6800/6900 XT"}
_INTEL_MODELS = {0x56A0: "Intel Arc A770", 0x56A1: "Intel Arc A750", 0x0BD5: "Intel Data Center GPU Max 1550",
                 0x56C0: "Intel Data Center GPU Flex 170", 0x9A49: "Intel Iris Xe Graphics",
                 0x46A6: "Intel Iris Xe Graphics", 0xA7A0: "Intel Iris Xe Graphics",
                 0x4692: "Intel UHD Graphics 730"}


def discover_gpus(p: Probe) -> list[GPU]:
    gpus = nvidia_gpus(p) + amd_gpus(p) + intel_gpus(p)
    return [replace(g, index=i) for i, g in enumerate(gpus)]


def pci_address(text: str | bytes | None) -> str | None:
    """Normalise to ``dddd:bb:dd.f`` lower-case (NVML gives an 8-digit domain)."""
    if text is None:
        return None
    s = text.decode() if isinstance(text, bytes) else str(text)
    m = re.match(r"^(?:([0-9a-fA-F]+):)?([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\.([0-7])$", s.strip())
    if not m:
        return s.strip().lower() or None
    domain = int(m.group(1) or "0", 16)
    return f"{domain:04x}:{m.group(2).lower()}:{m.group(3).lower()}.{m.group(4)}"


def _text(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


# ---------------------------------------------------------------- nvidia

def nvidia_gpus(p: Probe) -> list[GPU]:
    out: list[GPU] = []
    with nvml_session(p, quiet=False) as nv:
        if nv is None:
            return out
        try:
            for i in range(nv.nvmlDeviceGetCount()):
                h = nv.nvmlDeviceGetHandleByIndex(i)
                out.append(GPU(index=i, vendor="nvidia", model=_text(nv.nvmlDeviceGetName(h)),
                               vram=int(nv.nvmlDeviceGetMemoryInfo(h).total),
                               pci_address=pci_address(nv.nvmlDeviceGetPciInfo(h).busId),
                               uuid=_text(nv.nvmlDeviceGetUUID(h))))
        except Exception as exc:
            p.note(f"NVML query failed ({exc}); NVIDIA GPUs listed so far: {len(out)}")
    return out


# ---------------------------------------------------------------- sysfs (amd, intel)

def _drm_cards(p: Probe, vendor: str) -> list[tuple[str, str]]:
    """(card name, rel path of its device dir) for DRM cards of ``vendor``."""
    base = p.path("sys/class/drm")
    if not base.is_dir():
        return []
    cards = [c.name for c in base.iterdir() if re.fullmatch(r"card\d+", c.name)]
    out = []
    for name in sorted(cards, key=lambda c: int(c[4:])):
        dev = f"sys/class/drm/{name}/device"
        if (p.read(dev + "/vendor") or "").lower() == vendor:
            out.append((name, dev))
    return out


def _slot(p: Probe, dev: str) -> str | None:
    for line in (p.read(dev + "/uevent") or "").splitlines():
        if line.startswith("PCI_SLOT_NAME="):
            return pci_address(line.split("=", 1)[1])
    return None


def _ci(d: dict[str, Any], *names: str) -> Any:
    low = {k.lower(): v for k, v in d.items()}
    for n in names:
        if n.lower() in low:
            return low[n.lower()]
    return None


def _rocm_smi(p: Probe) -> list[dict[str, Any]]:
    out = p.run(["rocm-smi", "--showproductname", "--showmeminfo", "vram", "--showuniqueid",
                 "--showbus", "--json"])
    if not out:
        return []
    try:
        data = json.loads(out)
    except ValueError:
        p.note("rocm-smi gave output that is not JSON; ignored")
        return []
    cards = [(k, v) for k, v in data.items() if k.startswith("card") and isinstance(v, dict)]
    return [v for _, v in sorted(cards, key=lambda kv: int(re.sub(r"\D", "", kv[0]) or 0))]


def amd_gpus(p: Probe) -> list[GPU]:
    smi = {pci_address(_ci(c, "PCI Bus")): c for c in _rocm_smi(p)}
    out: list[GPU] = []
    seen = set()
    for _name, dev in _drm_cards(p, AMD_VENDOR):
        slot = _slot(p, dev)
        info = smi.get(slot, {})
        dev_id = p.read_int(dev + "/device", 16)
        model = _ci(info, "Card Series", "Card series") or p.read(dev + "/product_name") \
            or _AMD_MODELS.get(dev_id or -1) or (f"AMD GPU 0x{dev_id:04x}" if dev_id else "AMD GPU")
        vram = p.read_int(dev + "/mem_info_vram_total") or int(_ci(info, "VRAM Total Memory (B)") or 0)
        uuid = p.read(dev + "/unique_id") or _ci(info, "Unique ID")
        out.append(GPU(vendor="amd", model=str(model), vram=vram, pci_address=slot,
                       uuid=str(uuid) if uuid else None))
        seen.add(slot)
    for slot, info in smi.items():  # rocm-smi knows cards sysfs did not show
        if slot not in seen:
            out.append(GPU(vendor="amd", model=str(_ci(info, "Card Series", "Card series") or "AMD GPU"),
                           vram=int(_ci(info, "VRAM Total Memory (B)") or 0), pci_address=slot,
                           uuid=_ci(info, "Unique ID")))
    return out


def _xpu_smi(p: Probe) -> dict[str | None, dict[str, Any]]:
    out = p.run(["xpu-smi", "discovery", "-j"])
    if not out:
        return {}
    try:
        devices = json.loads(out).get("device_list", [])
    except (ValueError, AttributeError):
        p.note("xpu-smi gave output that is not JSON; ignored")
        return {}
    found: dict[str | None, dict[str, Any]] = {}
    for d in devices:
        detail = p.run(["xpu-smi", "discovery", "-d", str(d.get("device_id")), "-j"])
        try:
            extra = json.loads(detail) if detail else {}
        except ValueError:
            extra = {}
        found[pci_address(d.get("pci_bdf_address"))] = {**d, **extra}
    return found


def intel_gpus(p: Probe) -> list[GPU]:
    xpu = _xpu_smi(p)
    out = []
    for name, dev in _drm_cards(p, INTEL_VENDOR):
        slot = _slot(p, dev)
        info = xpu.get(slot, {})
        dev_id = p.read_int(dev + "/device", 16)
        model = info.get("device_name") or _INTEL_MODELS.get(dev_id or -1) \
            or (f"Intel GPU 0x{dev_id:04x}" if dev_id else "Intel GPU")
        vram = int(info.get("memory_physical_size_byte") or 0) \
            or p.read_int(f"sys/class/drm/{name}/lmem_total_bytes") or 0
        if not vram:
            p.note(f"Intel GPU at {slot}: no dedicated VRAM found (integrated, or no xpu-smi)")
        out.append(GPU(vendor="intel", model=str(model), vram=vram, pci_address=slot,
                       uuid=info.get("uuid")))
    return out
