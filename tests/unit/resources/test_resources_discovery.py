from __future__ import annotations

import pytest
from resources_fakes import GiB, fake_pynvml, host_probe, rocm_answers, xpu_answers

from dms.resources.discovery import BlockDevice, Hardware, discover
from dms.resources.gpus import pci_address
from dms.resources.model import GPU
from dms.resources.probe import Probe

pytestmark = pytest.mark.unit


def test_nvidia_host_via_nvml() -> None:
    hw = discover("/data", host_probe("nvidia", nvml=True, dev=(259, 0)))
    assert hw.cpu.model == "AMD EPYC 7J13 64-Core Processor"
    assert hw.cpu.vendor == "amd" and hw.cpu.architecture == "amd64"
    assert (hw.cpu.cores, hw.cpu.threads) == (4.0, 8)
    assert hw.cpu.clock_speed_hz == 3_673_000_000  # cpuinfo_max_freq wins over cpu MHz
    assert hw.cpu.cache_bytes == 32 * 2**20  # L3 from sysfs
    assert hw.ram.size == 65_842_196 * 1024
    assert hw.disks == (BlockDevice("nvme0n1", 1_000_215_216 * 512, "ssd"),)  # loop0 skipped
    assert hw.work_disk.type == "ssd" and hw.work_free == 800 * GiB
    assert hw.gpus == (
        GPU(0, "nvidia", "NVIDIA A100-SXM4-40GB", 42_949_672_960, "0000:07:00.0",
            "GPU-4b2f1e3a-8c7d-2e11-9f0a-6d5c4b3a2f10"),
        GPU(1, "nvidia", "NVIDIA A100-SXM4-40GB", 42_949_672_960, "0000:0f:00.0",
            "GPU-9e8d7c6b-5a4f-3e2d-1c0b-a9f8e7d6c5b4"))
    cap = hw.capacity()
    assert cap.cpu.cores == 8 and cap.disk.size == 800 * GiB and len(cap.gpus) == 2


def test_nvml_missing_library_means_no_gpus_and_a_note() -> None:
    hw = discover("/data", host_probe("nvidia", nvml=False))
    assert hw.gpus == ()
    assert any("NVML unavailable (NVML Shared Library Not Found)" in n for n in hw.notes)


def test_pynvml_not_importable_means_no_gpus() -> None:
    probe = host_probe("nvidia")
    probe.nvml = lambda: None
    assert discover("/data", probe).gpus == ()


def test_nvml_failing_mid_query_keeps_what_it_had() -> None:
    nv = fake_pynvml.load(host_probe("nvidia").root / "nvml.json")
    real = nv.nvmlDeviceGetUUID

    def flaky(h: int) -> str:
        if h == 1:
            raise fake_pynvml.NVMLError("GPU is lost")
        return real(h)

    nv.nvmlDeviceGetUUID = flaky
    probe = host_probe("nvidia")
    probe.nvml = lambda: nv
    hw = discover("/data", probe)
    assert [g.index for g in hw.gpus] == [0]
    assert nv.initialised == 0  # shut down even after the failure
    assert any("GPU is lost" in n for n in hw.notes)


def test_amd_host_sysfs_and_rocm_smi() -> None:
    hw = discover("/data", host_probe("amd", commands=rocm_answers(), dev=(8, 0)))
    assert [g.model for g in hw.gpus] == ["AMD Instinct MI210"] * 2
    assert hw.gpus[0] == GPU(0, "amd", "AMD Instinct MI210", 68_702_699_520, "0000:03:00.0",
                             "0x5e2d7a1c3b4f6e80")
    assert hw.gpus[1].pci_address == "0000:83:00.0" and hw.gpus[1].index == 1
    assert hw.disks[0].type == "hdd" and hw.work_disk.type == "hdd"
    assert (hw.cpu.cores, hw.cpu.threads) == (8.0, 16)


def test_amd_host_without_rocm_smi_uses_the_device_table() -> None:
    hw = discover("/data", host_probe("amd"))
    assert [g.model for g in hw.gpus] == ["AMD Instinct MI210"] * 2  # from PCI id 0x740f
    assert [g.vram for g in hw.gpus] == [68_702_699_520] * 2


def test_rocm_smi_garbage_is_ignored_with_a_note() -> None:
    cmd = next(iter(rocm_answers()))
    hw = discover("/data", host_probe("amd", commands={cmd: "WARNING: not json"}))
    assert len(hw.gpus) == 2
    assert any("rocm-smi" in n for n in hw.notes)


def test_intel_host_sysfs() -> None:
    hw = discover("/data", host_probe("intel", dev=(8, 0)))
    assert [(g.index, g.model, g.vram, g.pci_address) for g in hw.gpus] == [
        (0, "Intel UHD Graphics 730", 0, "0000:00:02.0"),
        (1, "Intel Arc A770", 17_079_205_888, "0000:03:00.0")]
    assert hw.cpu.clock_speed_hz == 4_400_000_000
    assert hw.cpu.vendor == "intel"
    assert any("no dedicated VRAM" in n for n in hw.notes)
    # onboarding by default takes GPUs with memory of their own only: capacity lists both
    assert len(hw.capacity().gpus) == 2


def test_intel_host_with_xpu_smi() -> None:
    hw = discover("/data", host_probe("intel", commands=xpu_answers()))
    arc = hw.gpus[1]
    assert arc.model == "Intel(R) Arc(TM) A770 Graphics"
    assert arc.uuid == "00000000-0000-0003-0000-000856a08086"


def test_mixed_vendor_indices_are_global(tmp_path: object) -> None:
    """NVIDIA first (NVML order), then AMD, then Intel."""
    probe = host_probe("amd", commands=rocm_answers())
    nv = fake_pynvml.load(host_probe("nvidia").root / "nvml.json")
    probe.nvml = lambda: nv
    hw = discover("/data", probe)
    assert [(g.index, g.vendor) for g in hw.gpus] == [(0, "nvidia"), (1, "nvidia"), (2, "amd"),
                                                       (3, "amd")]


def test_empty_root_reports_nothing_and_does_not_fail(tmp_path: object) -> None:
    probe = Probe(root=tmp_path, nvml=lambda: None, run=lambda _a: None,  # type: ignore[arg-type]
                  disk_usage=lambda _p: (0, 0), stat_dev=lambda _p: None)
    hw = discover("/x", probe)
    assert hw.gpus == () and hw.disks == () and hw.ram.size == 0
    assert hw.cpu.threads is None and hw.cpu.model is None


def test_fingerprint_and_round_trip() -> None:
    a = discover("/data", host_probe("nvidia", nvml=True))
    b = discover("/data", host_probe("nvidia", nvml=True, usage=(1000 * GiB, 10 * GiB)))
    assert a.fingerprint() == b.fingerprint()  # free space is not hardware
    assert a.fingerprint() != discover("/data", host_probe("nvidia")).fingerprint()
    assert Hardware.from_dict(a.to_dict()) == a


@pytest.mark.parametrize(("raw", "norm"), [("00000000:07:00.0", "0000:07:00.0"),
                                           (b"00000000:0F:00.0", "0000:0f:00.0"),
                                           ("03:00.0", "0000:03:00.0"), (None, None)])
def test_pci_address_normalisation(raw: str | bytes | None, norm: str | None) -> None:
    assert pci_address(raw) == norm
