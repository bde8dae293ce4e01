"""Pure parts of the microVM executor: cpio, guest protocol, QEMU argv, outcomes, guest build."""

from __future__ import annotations

import gzip
import stat
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dms.errors import ExecutorError
from dms.executor.microvm import cpio
from dms.executor.microvm.backend import Disk, LaunchPlan
from dms.executor.microvm.guest_protocol import (
    Marker,
    find_marker,
    job_archive,
    kernel_args,
    validate_env,
)
from dms.executor.microvm.outcome import decide
from dms.executor.microvm.qemu import MACHINE, debug_exit_status, host_tsc_khz, qemu_argv
from dms.testing.guest import find_kernel, is_static_elf, module_closure

pytestmark = pytest.mark.unit

names = st.text(st.sampled_from("abcxyz/._-"), min_size=1, max_size=20).filter(
    lambda s: s.strip("/") and s not in ("TRAILER!!!",))


@settings(deadline=None)
@given(st.lists(st.tuples(names, st.binary(max_size=300)), max_size=8))
def test_cpio_round_trip(files: list[tuple[str, bytes]]) -> None:
    entries = [cpio.file(n.lstrip("/"), d) for n, d in files]
    raw = cpio.archive(entries)
    assert len(raw) % 4 == 0
    back = cpio.parse(raw)
    assert [(e.name, e.data) for e in back] == [(e.name, e.data) for e in entries]


def test_cpio_special_entries_and_determinism() -> None:
    entries = [cpio.directory("dev"), cpio.chardev("dev/console", 5, 1),
               cpio.symlink("bin/sh", "/bin/busybox"), cpio.file("init", b"#!/bin/sh\n", 0o755)]
    back = cpio.parse(cpio.archive(entries))
    assert stat.S_ISDIR(back[0].mode)
    assert stat.S_ISCHR(back[1].mode) and back[1].rdev == (5, 1)
    assert stat.S_ISLNK(back[2].mode) and back[2].data == b"/bin/busybox"
    assert back[3].mode & 0o777 == 0o755
    assert cpio.archive_gz(entries) == cpio.archive_gz(entries)
    with pytest.raises(ValueError, match="not a newc"):
        cpio.parse(b"garbage" * 20)


def test_job_archive_quotes_cmd_and_env() -> None:
    raw = gzip.decompress(job_archive(["sh", "-c", "echo 'a b'; exit 3"], {"K": "v w$x"}))
    files = {e.name: e.data for e in cpio.parse(raw)}
    assert files["dms/cmd"] == b"sh -c 'echo '\"'\"'a b'\"'\"'; exit 3'\n"
    assert files["dms/env"] == b"export K='v w$x'\n"
    assert "dms/cmd" not in {e.name for e in cpio.parse(gzip.decompress(job_archive([], {})))}


def test_env_names_must_be_shell_identifiers() -> None:
    validate_env({"OK_1": "x"})
    with pytest.raises(ValueError, match="not a shell identifier"):
        validate_env({"BAD-NAME": "x"})


def test_marker_last_one_with_our_nonce_wins() -> None:
    console = (b"boot\r\nDMS-EXIT other status=0 oom=0\r\n"
               b"partial lineDMS-EXIT n1 status=3 oom=0\r\n"
               b"DMS-EXIT n1 status=137 oom=1\r\n")
    assert find_marker(console, "n1") == Marker(137, True)
    assert find_marker(console, "n2") is None
    assert find_marker(b"DMS-EXIT n1 status=3 oom=0 trailing\n", "n1") is None


def test_kernel_args_compose_in_order() -> None:
    args = kernel_args(base="console=ttyS0", tsc_khz=2600000, nonce="abc",
                       disks=["results", "root"], workdir="/work", read_only_root=True,
                       extra="foo=bar", disk_names={"results": "vda"}, network=True)
    assert args == ("console=ttyS0 tsc_early_khz=2600000 dms_nonce=abc dms_net=1 "
                    "dms_disks=results,root dms_results=vda dms_workdir=/work "
                    "dms_rootmode=ro foo=bar")
    with pytest.raises(ValueError, match="spaces or quotes"):
        kernel_args(base="", tsc_khz=None, nonce="n", disks=[], workdir="/a b",
                    read_only_root=True, extra="")


def _plan(tmp_path: Path) -> LaunchPlan:
    return LaunchPlan(workdir=tmp_path, kernel=tmp_path / "vmlinuz", initrd=tmp_path / "i.img",
                      cmdline="console=ttyS0", memory_mib=192, vcpus=2,
                      disks=(Disk("results", tmp_path / "r.img", False),
                             Disk("inputs", tmp_path / "in.img", True)),
                      console=tmp_path / "console.log", vmm_log=tmp_path / "vmm.log")


def test_qemu_argv_is_the_measured_recipe(tmp_path: Path) -> None:
    argv = qemu_argv("qemu-system-x86_64", _plan(tmp_path), "tcg")
    joined = " ".join(argv)
    assert argv[argv.index("-M") + 1] == MACHINE
    assert "pit=off" in MACHINE and "isa-serial=on" in MACHINE
    for flag in ("-nodefaults", "-no-user-config", "-no-reboot",
                 "isa-debug-exit,iobase=0xf4,iosize=0x04", "-accel tcg", "-m 192", "-smp 2",
                 f"file:{tmp_path}/console.log"):
        assert flag in joined, flag
    assert "-cpu" not in argv
    assert f"file={tmp_path}/in.img,format=raw,readonly=on" in joined
    assert "virtio-blk-device,drive=d0,serial=dmsresults" in joined
    assert "-cpu host" in " ".join(qemu_argv("q", _plan(tmp_path), "kvm"))
    assert "-netdev" not in argv   # no NIC unless asked


def test_qemu_argv_network_and_ports(tmp_path: Path) -> None:
    from dataclasses import replace
    plan = replace(_plan(tmp_path), network=True, ports=((18080, 80), (2222, 22)))
    argv = qemu_argv("q", plan, "tcg")
    assert argv[argv.index("-netdev") + 1] == (
        "user,id=n0,hostfwd=tcp::18080-:80,hostfwd=tcp::2222-:22")
    assert "virtio-net-device,netdev=n0" in argv


def test_qemu_argv_refuses_commas_in_paths(tmp_path: Path) -> None:
    bad = tmp_path / "a,b"
    with pytest.raises(ValueError, match="comma"):
        qemu_argv("q", _plan(bad), "tcg")


@pytest.mark.parametrize(("rc", "status"), [(1, 0), (7, 3), (19, 9), (0, None), (2, None),
                                            (-9, None)])
def test_debug_exit_decoding(rc: int, status: int | None) -> None:
    assert debug_exit_status(rc) == status


def test_tsc_khz_from_cpuinfo() -> None:
    assert host_tsc_khz("processor\t: 0\ncpu MHz\t\t: 2599.998\n") == 2599998
    assert host_tsc_khz("processor\t: 0\n") is None


def test_outcome_table() -> None:
    ok = Marker(0, False)
    assert decide(rc=1, rc_status=0, encodes_status=True, marker=ok, timed_out=False,
                  cancelled=False).ok
    # rc 0 from QEMU = crash/panic even with a marker
    s = decide(rc=0, rc_status=None, encodes_status=True, marker=ok, timed_out=False,
               cancelled=False)
    assert s.exit_code is None and "crash" in (s.error or "")
    # missing marker
    s = decide(rc=1, rc_status=0, encodes_status=True, marker=None, timed_out=False,
               cancelled=False, vmm_tail="qemu: could not open kernel")
    assert not s.ok and "could not open kernel" in (s.error or "")
    # channels disagree
    s = decide(rc=7, rc_status=3, encodes_status=True, marker=ok, timed_out=False,
               cancelled=False)
    assert s.exit_code is None and "disagrees" in (s.error or "")
    # status 137 survives only in the marker; its low 7 bits must match debug-exit
    s = decide(rc=19, rc_status=9, encodes_status=True, marker=Marker(137, True),
               timed_out=False, cancelled=False)
    assert s.exit_code == 137 and s.oom_killed
    # Firecracker: marker only
    assert decide(rc=0, rc_status=None, encodes_status=False, marker=Marker(4, False),
                  timed_out=False, cancelled=False).exit_code == 4
    # recovered after a restart: rc unknown
    assert decide(rc=None, rc_status=None, encodes_status=True, marker=ok,
                  timed_out=False, cancelled=False).ok
    assert decide(rc=None, rc_status=None, encodes_status=True, marker=None,
                  timed_out=False, cancelled=False).lost
    assert decide(rc=None, rc_status=None, encodes_status=True, marker=None,
                  timed_out=True, cancelled=False, deadline_s=2).timed_out
    assert decide(rc=-9, rc_status=None, encodes_status=True, marker=None,
                  timed_out=False, cancelled=True).cancelled


def test_module_closure_orders_dependencies(tmp_path: Path) -> None:
    (tmp_path / "modules.dep").write_text(
        "kernel/virtio_blk.ko.xz: kernel/virtio.ko kernel/virtio_ring.ko\n"
        "kernel/virtio.ko: kernel/virtio_ring.ko\n"
        "kernel/virtio_ring.ko:\n"
        "kernel/other.ko:\n")
    got = [p.name for p in module_closure(tmp_path, ("virtio_blk", "missing"))]
    assert got == ["virtio_ring.ko", "virtio.ko", "virtio_blk.ko.xz"]


def test_static_elf_detection() -> None:
    assert not is_static_elf(Path(sys.executable).resolve())
    busybox = Path("/bin/busybox")
    if busybox.exists():   # busybox-static is a dms dependency (scripts/setup)
        assert is_static_elf(busybox)


def test_find_kernel(tmp_path: Path) -> None:
    with pytest.raises(ExecutorError, match="no guest kernel") as err:
        find_kernel(tmp_path)
    assert "linux-image-cloud-amd64" in err.value.hint
    (tmp_path / "vmlinuz-6.1.0-1-amd64").write_bytes(b"")
    (tmp_path / "vmlinuz-6.1.0-1-cloud-amd64").write_bytes(b"")
    assert find_kernel(tmp_path)[1] == "6.1.0-1-cloud-amd64"


def test_build_from_settings_dict_and_errors(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import dms.executor.microvm as microvm
    from dms.errors import ConfigError

    assert set(microvm.__all__) == {"Disk", "FirecrackerBackend", "LaunchPlan",
                                    "MicroVMExecutor", "MicroVMSettings", "QemuBackend",
                                    "VMMBackend", "build"}
    ex = microvm.build({"state_dir": str(tmp_path / "s"), "accel": "tcg"})
    assert ex.state_dir == tmp_path / "s" and ex.settings.accel == "tcg"
    monkeypatch.setenv("DMS_HOME", str(tmp_path / "home"))
    assert microvm.build(None).state_dir == tmp_path / "home" / "work" / "microvm"
    with pytest.raises(ConfigError, match="bad microvm executor settings") as err:
        microvm.build({"state_dir": str(tmp_path), "bogus": 1})
    assert "state_dir" in err.value.hint
