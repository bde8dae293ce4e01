"""A real daemon death: the VM is started by another process that then exits.

The VMM runs in its own session, so it outlives the process that started it; a new
executor (not its parent) re-attaches, waits through a pidfd, collects the results and
reads the status from the console.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import trio

from dms.executor.microvm import MicroVMExecutor, MicroVMSettings
from dms.executor.wasm import WasmExecutor, WasmSettings
from dms.executor.wasm.examples import sleep_wat
from dms.testing.guest import build_guest

pytestmark = [pytest.mark.functional]

STARTER = r"""
import json, sys, trio
from pathlib import Path
from dms.executor.contract import WorkloadSpec
from dms.executor.microvm import MicroVMExecutor, MicroVMSettings
from dms.executor.wasm import WasmExecutor, WasmSettings

cfg = json.loads(sys.argv[1])

async def main():
    if cfg["kind"] == "microvm":
        ex = MicroVMExecutor(MicroVMSettings(state_dir=cfg["state"], backend="qemu",
                                             kernel=cfg["kernel"], initrd=cfg["initrd"]))
        spec = WorkloadSpec(id="survivor", executor="microvm", results_dir=Path(cfg["results"]),
                            cmd=("sh", "-c", "sleep 2; echo done > /results/out.txt; echo bye"))
    else:
        ex = WasmExecutor(WasmSettings(state_dir=cfg["state"]))
        spec = WorkloadSpec(id="inproc", executor="wasm", module=Path(cfg["module"]))
    h = await ex.start(spec)
    print(h.ref, flush=True)

trio.run(main)
"""


def _start_in_a_dying_daemon(cfg: dict[str, str]) -> str:
    res = subprocess.run([sys.executable, "-W", "ignore", "-c", STARTER, json.dumps(cfg)],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    return res.stdout.strip()


@pytest.mark.qemu
@pytest.mark.slow
async def test_vm_outlives_its_daemon_and_is_reattached(tmp_path: Path) -> None:
    guest = build_guest()
    cfg = {"kind": "microvm", "state": str(tmp_path / "state"), "kernel": str(guest.kernel),
           "initrd": str(guest.initrd), "results": str(tmp_path / "results")}
    pid = _start_in_a_dying_daemon(cfg)
    ex = MicroVMExecutor(MicroVMSettings(state_dir=tmp_path / "state", backend="qemu",
                                         kernel=guest.kernel, initrd=guest.initrd))
    [handle] = await ex.recover()
    try:
        assert handle.ref == pid and handle.meta["state"] == "running", handle
        with trio.fail_after(60):
            status = await ex.wait(handle)
        assert status.ok, status
        assert (tmp_path / "results" / "out.txt").read_text() == "done\n"
        assert b"bye" in [ln.data async for ln in ex.logs(handle)]
    finally:
        await ex.remove(handle)   # kills the VM if the test failed before it ended
    assert await ex.recover() == []


async def test_wasm_dies_with_its_daemon_and_is_reported_lost(tmp_path: Path) -> None:
    module = tmp_path / "sleep.wat"
    module.write_text(sleep_wat(60_000))
    _start_in_a_dying_daemon({"kind": "wasm", "state": str(tmp_path / "state"),
                              "module": str(module)})
    ex = WasmExecutor(WasmSettings(state_dir=tmp_path / "state"))
    [handle] = await ex.recover()
    assert handle.id == "inproc" and handle.meta["state"] == "lost"
    status = await ex.wait(handle)
    assert status.lost and not status.ok and "restarted" in (status.error or "")
