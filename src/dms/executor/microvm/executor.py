"""MicroVMExecutor: runs a workload as a microVM under QEMU or Firecracker."""

from __future__ import annotations

import json
import math
import os
import secrets
import shutil
import signal
import time
from collections.abc import AsyncIterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import psutil
import trio

from dms.errors import ExecutorError
from dms.executor.contract import ExitStatus, Handle, LogLine, WorkloadSpec
from dms.executor.files import read_from
from dms.executor.microvm import disks, outcome
from dms.executor.microvm.backend import Disk, LaunchPlan, VMMBackend
from dms.executor.microvm.firecracker import FirecrackerBackend
from dms.executor.microvm.guest_protocol import find_marker, job_archive, kernel_args, validate_env
from dms.executor.microvm.hostio import (
    check_paths,
    free_port,
    wait_foreign,
    write_initrd,
)
from dms.executor.microvm.qemu import QemuBackend, debug_exit_status
from dms.executor.microvm.settings import MicroVMSettings
from dms.executor.microvm.state import Record, create_time, load_all, process_alive

MiB = 1 << 20


class MicroVMExecutor:
    name = "microvm"

    def __init__(self, settings: MicroVMSettings, *, backend: VMMBackend | None = None) -> None:
        self.settings = settings
        self.state_dir = Path(settings.state_dir)
        self._backend_override = backend
        self._backend: VMMBackend | None = None
        self._procs: dict[str, trio.Process] = {}
        self._locks: dict[str, trio.Lock] = {}
        self._guest: tuple[Path, Path] | None = None

    # ---- what this machine offers -------------------------------------------------------

    def backend(self) -> VMMBackend:
        if self._backend is None:
            self._backend = self._backend_override or self._choose_backend()
        return self._backend

    def _choose_backend(self) -> VMMBackend:
        s = self.settings
        fc = FirecrackerBackend(binary=s.firecracker_binary)
        if s.backend == "firecracker" or (s.backend == "auto" and fc.available()):
            return fc
        cache = s.accel_cache or Path.home() / ".cache" / "dms" / "microvm-accel.json"
        probe = self._probe_guest() if s.accel == "auto" else None
        return QemuBackend(binary=s.qemu_binary, accel=s.accel, accel_cache=cache,
                           probe_guest=probe, probe_timeout_s=s.kvm_probe_timeout_s)

    def _probe_guest(self) -> tuple[Path, Path] | None:
        try:
            return self.default_guest()
        except ExecutorError:
            return None

    def default_guest(self) -> tuple[Path, Path]:
        """(kernel, initrd) used when a spec names none: settings, else the dms guest."""
        if self._guest is None:
            s = self.settings
            if s.kernel and s.initrd:
                self._guest = (s.kernel, s.initrd)
            else:
                from dms.testing.guest import build_guest
                g = build_guest(s.guest_cache_dir)
                self._guest = (s.kernel or g.kernel, s.initrd or g.initrd)
        return self._guest

    def is_installed(self) -> bool:
        if not self.backend().available():
            return False
        if self.settings.kernel:
            return self.settings.kernel.exists()
        from dms.testing.guest import find_kernel
        try:
            find_kernel()
        except ExecutorError:
            return False
        return True

    def capabilities(self) -> dict[str, Any]:
        b = self.backend()
        return {"backend": b.name, "accel": b.accel(), "kvm": b.accel() == "kvm",
                "max_vcpus": os.cpu_count() or 1, "results": True, "inputs": True,
                "network": b.name == "qemu", "exit_status": "debug-exit+marker" if b.name == "qemu"
                else "marker"}

    # ---- lifecycle ----------------------------------------------------------------------

    def _workdir(self, wid: str) -> Path:
        if not wid or "/" in wid or wid.startswith(".") or "," in wid:
            raise ExecutorError(f"workload id {wid!r} cannot name a directory",
                                hint="use ids without '/', ',' or a leading '.'")
        return self.state_dir / wid

    def _sizes(self, spec: WorkloadSpec) -> tuple[int, int]:
        s, lim = self.settings, spec.limits
        mem = math.ceil(lim.memory_bytes / MiB) if lim.memory_bytes else s.memory_mib
        if mem < s.min_memory_mib:
            raise ExecutorError(f"memory limit {mem} MiB is below the {s.min_memory_mib} MiB "
                                "a guest kernel needs", hint="raise limits.memory_bytes")
        cpus = max(1, math.ceil(lim.cpus)) if lim.cpus else s.vcpus
        return mem, min(cpus, os.cpu_count() or 1)

    async def start(self, spec: WorkloadSpec) -> Handle:
        if spec.ports and not spec.network:
            raise ExecutorError(f"workload {spec.id} publishes ports with networking off",
                                hint="set network: true to publish ports")
        if spec.limits.gpus:
            raise ExecutorError("the microvm executor cannot pass GPUs through",
                                hint="request GPUs from the docker executor")
        validate_env(spec.env)
        mem, vcpus = self._sizes(spec)
        wd = self._workdir(spec.id)
        if wd.exists():
            raise ExecutorError(f"workload {spec.id} already exists",
                                hint="remove() it first or use a new id")
        # the first call may build the guest and probe KVM (seconds): keep it off the loop
        backend = await trio.to_thread.run_sync(self.backend)
        accel = await trio.to_thread.run_sync(backend.accel)
        if spec.network and backend.name != "qemu":
            raise ExecutorError(f"{backend.name} microVMs get no network from dms yet (it "
                                "needs a tap device per VM)",
                                hint="run without network, or set backend: qemu")
        ports = tuple((h or free_port(), g) for h, g in spec.ports)
        wd.mkdir(parents=True)
        rec = Record(id=spec.id, backend=backend.name, accel=accel, workdir=str(wd),
                     nonce=secrets.token_hex(8), started_at=time.time(),
                     deadline_at=time.time() + spec.deadline_s if spec.deadline_s else None,
                     results_dir=str(spec.results_dir) if spec.results_dir else None,
                     meta={"deadline_s": spec.deadline_s, "memory_mib": mem, "vcpus": vcpus,
                           "ports": {str(g): h for h, g in ports}})
        rec.save()
        (wd / "spec.json").write_text(json.dumps(asdict(spec), default=str, indent=1))
        try:
            plan = await self._plan(spec, rec, backend, mem, vcpus, ports)
            proc = await backend.launch(plan)
        except (ExecutorError, OSError, ValueError) as exc:
            rec.status = outcome.to_dict(ExitStatus(None, error=f"failed to start: {exc}"))
            rec.save()
            if isinstance(exc, ExecutorError):
                raise
            raise ExecutorError(f"could not start microVM {spec.id}: {exc}",
                                hint="check the kernel, initrd and rootfs paths") from exc
        self._procs[spec.id] = proc
        rec.pid, rec.pid_create_time = proc.pid, create_time(proc.pid)
        rec.save()
        return self._handle(rec)

    async def _plan(self, spec: WorkloadSpec, rec: Record, backend: VMMBackend,
                    mem: int, vcpus: int, ports: tuple[tuple[int, int], ...]) -> LaunchPlan:
        wd = Path(rec.workdir)
        await trio.to_thread.run_sync(check_paths, spec)
        use_guest = not (backend.name == "firecracker" and spec.rootfs and not spec.initrd)
        kernel = spec.kernel
        base_initrd = spec.initrd
        if kernel is None or (base_initrd is None and use_guest):
            g_kernel, g_initrd = await trio.to_thread.run_sync(self.default_guest)
            kernel = kernel or g_kernel
            base_initrd = base_initrd or (g_initrd if use_guest else None)
        assert kernel is not None
        dlist: list[Disk] = []
        size = spec.limits.disk_bytes or self.settings.results_disk_mib * MiB
        await disks.make_results_disk(wd / "results.img", size)
        dlist.append(Disk("results", wd / "results.img", read_only=False))
        if spec.inputs_dir:
            await disks.make_inputs_disk(wd / "inputs.img", Path(spec.inputs_dir))
            dlist.append(Disk("inputs", wd / "inputs.img", read_only=True))
        if spec.rootfs:
            dlist.append(Disk("root", Path(spec.rootfs), read_only=spec.read_only_root))
        initrd: Path | None = None
        if base_initrd is not None:
            initrd = wd / "initrd.img"
            cmd = (*(spec.entrypoint or ()), *spec.cmd)
            await trio.to_thread.run_sync(write_initrd, initrd, Path(base_initrd),
                                          job_archive(cmd, spec.env))
        disk_tuple = tuple(dlist)
        cmdline = kernel_args(base=backend.base_cmdline(), tsc_khz=None, nonce=rec.nonce,
                              disks=[d.role for d in disk_tuple], workdir=spec.working_dir,
                              read_only_root=spec.read_only_root, extra=spec.kernel_args,
                              disk_names=backend.disk_names(disk_tuple, initrd is not None),
                              network=spec.network)
        return LaunchPlan(workdir=wd, kernel=Path(kernel), initrd=initrd, cmdline=cmdline,
                          disks=disk_tuple, memory_mib=mem, vcpus=vcpus,
                          console=wd / "console.log", vmm_log=wd / "vmm.log",
                          network=spec.network, ports=ports)

    def _handle(self, rec: Record) -> Handle:
        state = ("finished" if rec.status else
                 "running" if self._alive(rec) else "exited")
        meta: dict[str, Any] = {"backend": rec.backend, "accel": rec.accel,
                                "workdir": rec.workdir, "state": state}
        if rec.meta.get("ports"):
            meta["ports"] = {int(g): h for g, h in rec.meta["ports"].items()}
        return Handle(id=rec.id, executor=self.name, ref=str(rec.pid), meta=meta)

    def _load(self, wid: str) -> Record:
        wd = self._workdir(wid)
        try:
            return Record.load(wd)
        except FileNotFoundError as exc:
            raise ExecutorError(f"no microVM workload {wid}",
                                hint="it was removed, or never started here") from exc

    def _alive(self, rec: Record) -> bool:
        proc = self._procs.get(rec.id)
        if proc is not None:
            return proc.poll() is None
        return process_alive(rec)

    async def wait(self, handle: Handle) -> ExitStatus:
        lock = self._locks.setdefault(handle.id, trio.Lock())
        async with lock:
            rec = self._load(handle.id)
            if rec.status is not None:
                return outcome.from_dict(rec.status)
            proc = self._procs.get(rec.id)
            deadline = (trio.current_time() + (rec.deadline_at - time.time())
                        if rec.deadline_at else math.inf)
            rc: int | None = None
            with trio.move_on_at(deadline) as scope:
                if proc is not None:
                    rc = await proc.wait()
                else:
                    await wait_foreign(rec)
            if scope.cancelled_caught:
                self._kill(rec)
                if proc is not None:
                    await proc.wait()
            return await self._finalize(rec.id, rc, timed_out=scope.cancelled_caught)

    async def _finalize(self, wid: str, rc: int | None, *, timed_out: bool) -> ExitStatus:
        rec = self._load(wid)   # cancel() may have marked it meanwhile
        wd = Path(rec.workdir)
        console = read_from(wd / "console.log")
        collect_error = ""
        if rec.results_dir and (wd / "results.img").exists():
            try:
                await disks.collect_results(wd / "results.img", Path(rec.results_dir),
                                            wd / "results.out")
            except ExecutorError as exc:
                collect_error = f"; results not collected: {exc.message}"
        encodes = rec.backend == "qemu"   # only QEMU has the debug-exit channel
        rc_status = debug_exit_status(rc) if encodes and rc is not None else None
        status = outcome.decide(rc=rc, rc_status=rc_status, encodes_status=encodes,
                                marker=find_marker(console, rec.nonce), timed_out=timed_out,
                                cancelled=rec.cancelled, deadline_s=rec.meta.get("deadline_s"),
                                vmm_tail=read_from(wd / "vmm.log").decode(errors="replace"))
        if collect_error:
            status = ExitStatus(status.exit_code, status.oom_killed, status.timed_out,
                                status.cancelled, status.lost,
                                (status.error or "") + collect_error)
        rec.status = outcome.to_dict(status)
        rec.save()
        self._procs.pop(wid, None)
        return status

    def _kill(self, rec: Record) -> None:
        proc = self._procs.get(rec.id)
        pid = proc.pid if proc is not None and proc.poll() is None else (
            rec.pid if process_alive(rec) else 0)
        if pid:
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    async def cancel(self, handle: Handle) -> None:
        rec = self._load(handle.id)
        if rec.status is not None:
            return
        rec.cancelled = True
        rec.save()
        self._kill(rec)

    async def logs(self, handle: Handle, *, follow: bool = False) -> AsyncIterator[LogLine]:
        rec = self._load(handle.id)
        path = Path(rec.workdir) / "console.log"
        pos, buf = 0, b""
        while True:
            done = not follow or not self._alive(self._load(handle.id))
            data = read_from(path, pos)
            pos += len(data)
            buf += data
            *lines, buf = buf.split(b"\n")
            for line in lines:
                yield LogLine("console", line.rstrip(b"\r"))
            if done and not data:
                break
            if not data:
                await trio.sleep(self.settings.poll_interval_s)
        if buf:
            yield LogLine("console", buf.rstrip(b"\r"))

    async def remove(self, handle: Handle) -> None:
        wd = self._workdir(handle.id)
        proc = self._procs.pop(handle.id, None)
        if proc is not None:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()
        try:
            self._kill(Record.load(wd))   # a VM started by an earlier daemon
        except (FileNotFoundError, ValueError, TypeError):
            pass
        self._locks.pop(handle.id, None)
        if wd.exists():
            await trio.to_thread.run_sync(shutil.rmtree, wd, True)

    async def stats(self, handle: Handle) -> dict[str, Any]:
        """The VMM process as the host sees it (CPU seconds, resident memory) plus the
        VM's size; ``running`` is False once it has ended."""
        rec = self._load(handle.id)
        out: dict[str, Any] = {"running": self._alive(rec), "backend": rec.backend,
                               "accel": rec.accel, "memory_mib": rec.meta.get("memory_mib"),
                               "vcpus": rec.meta.get("vcpus")}
        if out["running"]:
            try:
                p = psutil.Process(rec.pid)
                cpu = p.cpu_times()
                out.update(vmm_cpu_s=round(cpu.user + cpu.system, 3),
                           vmm_rss_bytes=p.memory_info().rss)
            except psutil.Error:
                out["running"] = False
        return out

    async def recover(self) -> list[Handle]:
        """Every workload with a record: running VMs are re-attached (wait/logs/cancel
        work on them); ones that ended while dms was down report the status their
        console shows, or ``lost`` when it shows none."""
        return [self._handle(r) for r in load_all(self.state_dir)]
