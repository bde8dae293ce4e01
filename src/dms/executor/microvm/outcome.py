"""Turn what a finished VM left behind into an ExitStatus (pure).

Two channels carry the guest's status: the VMM's exit code (QEMU's isa-debug-exit:
``2*status+1``) and the console marker. Both must agree where both exist. QEMU exiting
with 0 (kernel panic, triple fault), a missing marker, or a timeout is a failure.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from dms.executor.contract import ExitStatus
from dms.executor.microvm.guest_protocol import Marker


def decide(*, rc: int | None, rc_status: int | None, encodes_status: bool,
           marker: Marker | None, timed_out: bool, cancelled: bool,
           deadline_s: float | None = None, vmm_tail: str = "") -> ExitStatus:
    """``rc`` is the VMM's exit code (None when unknown: recovered after a restart),
    ``rc_status`` the guest status decoded from it, ``encodes_status`` whether this VMM
    encodes one at all."""
    if cancelled:
        return ExitStatus(None, cancelled=True, error="cancelled")
    if timed_out:
        return ExitStatus(None, timed_out=True,
                          error=f"deadline of {deadline_s:g} s exceeded; VM killed"
                          if deadline_s else "deadline exceeded; VM killed")
    tail = f" (VMM said: {vmm_tail.strip()[-300:]})" if vmm_tail.strip() else ""
    if marker is None:
        if rc is None:
            return ExitStatus(None, lost=True,
                              error="the VM ended while dms was not running and the guest "
                                    "left no exit status on its console")
        return ExitStatus(None, error=f"the guest reported no exit status (VMM exit code "
                                      f"{rc}: kernel panic, crash or VMM error){tail}")
    if rc is not None and encodes_status:
        if rc_status is None:
            return ExitStatus(None, oom_killed=marker.oom,
                              error=f"the VMM exited with {rc} without a debug-exit status "
                                    f"(console said {marker.status}): guest crash or panic")
        if rc_status != marker.status & 0x7F:
            return ExitStatus(None, oom_killed=marker.oom,
                              error=f"debug-exit status {rc_status} disagrees with the "
                                    f"console marker {marker.status}")
    return ExitStatus(marker.status, oom_killed=marker.oom,
                      error="killed by the guest's OOM killer (memory limit)"
                      if marker.oom else None)


def to_dict(status: ExitStatus) -> dict[str, Any]:
    return asdict(status)


def from_dict(d: dict[str, Any]) -> ExitStatus:
    return ExitStatus(**d)
