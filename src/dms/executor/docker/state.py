"""What survives a dms restart: container labels, and how to read them back (pure).

A container carries everything ``recover()`` needs to rebuild its :class:`Handle`:

    dms.managed=true  dms.executor=docker  dms.workload=<id>
    dms.deadline=<unix time>   (when the spec has a deadline)
    dms.owner=<settings.owner> (when set: several nodes may share one daemon)
    dms.results=<host dir>     (when the spec has a results dir)
"""

from __future__ import annotations

from typing import Any

from dms.executor.contract import ExitStatus, Handle, WorkloadSpec

MANAGED = "dms.managed"
EXECUTOR = "dms.executor"
WORKLOAD = "dms.workload"
DEADLINE = "dms.deadline"
OWNER = "dms.owner"
RESULTS = "dms.results"

NAME = "docker"


def labels_for(spec: WorkloadSpec, *, deadline_at: float | None = None,
               owner: str | None = None) -> dict[str, str]:
    labels = dict(spec.labels)
    labels.update({MANAGED: "true", EXECUTOR: NAME, WORKLOAD: spec.id})
    if deadline_at is not None:
        labels[DEADLINE] = repr(deadline_at)
    if owner:
        labels[OWNER] = owner
    if spec.results_dir is not None:
        labels[RESULTS] = str(spec.results_dir)
    return labels


def recover_filters(owner: str | None) -> dict[str, list[str]]:
    wanted = [f"{MANAGED}=true", f"{EXECUTOR}={NAME}"]
    if owner:
        wanted.append(f"{OWNER}={owner}")
    return {"label": wanted}


def handle_meta(name: str, labels: dict[str, str]) -> dict[str, Any]:
    meta: dict[str, Any] = {"container": name}
    if DEADLINE in labels:
        try:
            meta["deadline_at"] = float(labels[DEADLINE])
        except ValueError:
            pass
    if RESULTS in labels:
        meta["results_dir"] = labels[RESULTS]
    return meta


def handle_from_summary(summary: dict[str, Any]) -> Handle | None:
    """A Handle from one ``GET /containers/json`` entry; None if it is not ours."""
    labels: dict[str, str] = summary.get("Labels") or {}
    if labels.get(MANAGED) != "true" or WORKLOAD not in labels:
        return None
    names = summary.get("Names") or []
    name = names[0].lstrip("/") if names else summary["Id"][:12]
    return Handle(id=labels[WORKLOAD], executor=NAME, ref=summary["Id"],
                  meta=handle_meta(name, labels))


def classify_exit(state: dict[str, Any], *, cancelled: bool = False,
                  timed_out: bool = False, deadline_at: float | None = None,
                  finished_at: float | None = None) -> ExitStatus:
    """The ExitStatus for a container's ``State`` after it stopped.

    ``timed_out`` / ``cancelled`` are what this process did to it; after a restart the
    deadline label tells a kill at the deadline from a natural end (``finished_at`` is
    the end as unix time, parsed by the caller).
    """
    code = state.get("ExitCode")
    oom = bool(state.get("OOMKilled"))
    if (not timed_out and not cancelled and deadline_at is not None
            and finished_at is not None and finished_at >= deadline_at and code == 137):
        timed_out = True
    err = state.get("Error") or None
    if oom and err is None:
        err = "killed by the kernel: over its memory limit"
    elif timed_out and err is None:
        err = "killed at its deadline"
    return ExitStatus(exit_code=code if isinstance(code, int) else None, oom_killed=oom,
                      timed_out=timed_out and not oom, cancelled=cancelled and not timed_out,
                      error=err)
