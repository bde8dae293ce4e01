"""The contract between the executor and the dms guest init (pure: no I/O).

The host tells the guest what to run through a small job archive appended to the
initramfs (``/dms/cmd``, ``/dms/env``) and kernel arguments (``dms_*`` keys, which the
kernel hands to ``/init`` as environment variables). Disks carry a serial
(``dmsresults``, ``dmsinputs``, ``dmsroot``) so the guest finds them whatever order the
VMM enumerates them in; ``dms_<role>=vdX`` arguments are the fallback for VMMs without
disk serials (Firecracker).

The guest reports its exit status twice: through ``isa-debug-exit`` (QEMU exits with
``2*status+1``) and through a console marker line ``DMS-EXIT <nonce> status=N oom=0|1``.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from dms.executor.microvm import cpio

MODULES = ("virtio_ring", "virtio", "virtio_mmio", "virtio_blk", "virtio-rng", "virtio_net")
"""Kernel modules the guest needs; the guest build adds their dependencies and writes the
load order to /lib/modules/dms/order (built-ins simply fail to load)."""

GUEST_NET = {"ip": "10.0.2.15/24", "gw": "10.0.2.2", "dns": "10.0.2.3"}
"""The guest's address under QEMU user-mode networking (slirp defaults)."""

EXIT_PORT = 0xF4

INIT_SCRIPT = r"""#!/bin/sh
# dms guest init: load virtio, mount the dms disks, run the job, report its status.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /tmp /results /inputs /rootfs
for m in $(cat /lib/modules/dms/order 2>/dev/null); do
  insmod "/lib/modules/dms/$m.ko" 2>/dev/null
done
ip link set lo up 2>/dev/null
if [ "${dms_net:-0}" = 1 ]; then
  i=0
  while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
  ip link set eth0 up && ip addr add "${dms_ip:-10.0.2.15/24}" dev eth0 &&
    ip route add default via "${dms_gw:-10.0.2.2}" || echo "dms-init: network setup failed"
  mkdir -p /etc && echo "nameserver ${dms_dns:-10.0.2.3}" > /etc/resolv.conf
fi
disk_for() {
  for s in /sys/block/vd*/serial; do
    [ -e "$s" ] || continue
    if [ "$(cat "$s")" = "dms$1" ]; then d=${s%/serial}; echo "/dev/${d##*/}"; return 0; fi
  done
  eval v=\${dms_$1:-}
  [ -n "$v" ] && [ -b "/dev/$v" ] && echo "/dev/$v"
}
for role in $(echo "${dms_disks:-}" | tr , " "); do
  i=0
  while [ -z "$(disk_for "$role")" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
  [ -z "$(disk_for "$role")" ] && echo "dms-init: disk $role not found"
done
R=$(disk_for results); [ -n "$R" ] && mount -t ext4 "$R" /results
I=$(disk_for inputs); [ -n "$I" ] && mount -t ext4 -o ro "$I" /inputs
RT=$(disk_for root)
if [ -n "$RT" ]; then
  mount -o "${dms_rootmode:-ro}" "$RT" /rootfs
  for d in proc sys dev results inputs; do
    [ -d "/rootfs/$d" ] && mount -o bind "/$d" "/rootfs/$d"
  done
fi
echo 1 > /proc/sys/vm/overcommit_memory
oom0=$(awk '/^oom_kill /{print $2}' /proc/vmstat)
[ -f /dms/env ] && . /dms/env
DMS_CMDLINE=
[ -f /dms/cmd ] && DMS_CMDLINE=$(cat /dms/cmd)
[ -z "$DMS_CMDLINE" ] && DMS_CMDLINE=${dms_cmd:-}
if [ -z "$DMS_CMDLINE" ]; then
  echo "dms-init: no command (put one in /dms/cmd or dms_cmd=)"; st=127
elif [ -n "$RT" ]; then
  chroot /rootfs /bin/sh -c "cd '${dms_workdir:-/}' 2>/dev/null; $DMS_CMDLINE"; st=$?
else
  (cd "${dms_workdir:-/}" 2>/dev/null; eval "$DMS_CMDLINE"); st=$?
fi
oom1=$(awk '/^oom_kill /{print $2}' /proc/vmstat)
oom=0; [ "$oom0" != "$oom1" ] && oom=1
sync
[ -n "$RT" ] && umount -l /rootfs 2>/dev/null
[ -n "$R" ] && umount /results
echo "DMS-EXIT ${dms_nonce:-0} status=$st oom=$oom"
/bin/dms-exit "$st"
echo "dms-init: no debug-exit device (Firecracker?): rebooting to end the VM"
reboot -f
"""

EXIT_HELPER_C = r"""
/* dms-exit N: write N to the isa-debug-exit port (QEMU then exits with 2N+1). */
static long sys3(long n, long a, long b, long c) {
  long r;
  __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c)
                   : "rcx", "r11", "memory");
  return r;
}
__attribute__((noreturn, used)) void dms_main(long *sp) {
  long argc = sp[0];
  char **argv = (char **)(sp + 1);
  unsigned v = 0;
  if (argc > 1) for (char *p = argv[1]; *p >= '0' && *p <= '9'; p++) v = v * 10 + (*p - '0');
  if (sys3(173 /* ioperm */, 0xf4, 4, 1) == 0)
    __asm__ volatile("outb %b0, %w1" : : "a"((unsigned char)v), "Nd"((unsigned short)0xf4));
  sys3(60 /* exit */, 1, 0, 0);
  for (;;) {}
}
__asm__(".globl _start\n_start:\n  mov %rsp, %rdi\n  and $-16, %rsp\n  call dms_main\n");
"""

_MARKER = re.compile(rb"DMS-EXIT (\S+) status=(\d+) oom=([01])\r?$", re.MULTILINE)


@dataclass(frozen=True)
class Marker:
    status: int
    oom: bool


def find_marker(console: bytes, nonce: str) -> Marker | None:
    """The last exit marker with ``nonce`` on the console, if any."""
    found: Marker | None = None
    for m in _MARKER.finditer(console):
        if m.group(1).decode(errors="replace") == nonce:
            found = Marker(int(m.group(2)), m.group(3) == b"1")
    return found


def job_archive(cmd: Sequence[str], env: Mapping[str, str]) -> bytes:
    """A gzip cpio with ``/dms/cmd`` and ``/dms/env``, appended to the guest initramfs."""
    lines = [f"export {k}={shlex.quote(v)}" for k, v in sorted(env.items())]
    entries = [cpio.directory("dms"),
               cpio.file("dms/env", ("\n".join(lines) + "\n").encode())]
    if cmd:
        entries.append(cpio.file("dms/cmd", (shlex.join(cmd) + "\n").encode()))
    return cpio.archive_gz(entries)


def _check_env_key(k: str) -> None:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", k):
        raise ValueError(f"environment variable name {k!r} is not a shell identifier")


def validate_env(env: Mapping[str, str]) -> None:
    for k in env:
        _check_env_key(k)


def kernel_args(*, base: str, tsc_khz: int | None, nonce: str, disks: Sequence[str],
                workdir: str | None, read_only_root: bool, extra: str,
                disk_names: Mapping[str, str] | None = None, network: bool = False) -> str:
    """The kernel command line: the VMM's base, the dms keys, then the user's args."""
    parts = [base]
    if tsc_khz:
        parts.append(f"tsc_early_khz={tsc_khz}")
    parts.append(f"dms_nonce={nonce}")
    if network:
        parts.append("dms_net=1")
    if disks:
        parts.append("dms_disks=" + ",".join(disks))
    for role, dev in (disk_names or {}).items():
        parts.append(f"dms_{role}={dev}")
    if workdir:
        if any(c.isspace() or c in "'\"" for c in workdir):
            raise ValueError(f"working directory {workdir!r} must not contain spaces or quotes")
        parts.append(f"dms_workdir={workdir}")
    if "root" in disks:
        parts.append("dms_rootmode=" + ("ro" if read_only_root else "rw"))
    if extra:
        parts.append(extra)
    return " ".join(p for p in parts if p)
