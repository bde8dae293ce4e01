"""Docker settings and the pure translation of a WorkloadSpec into Engine API arguments.

Nothing here talks to a daemon: :func:`create_args` returns the keyword arguments for
``APIClient.create_container`` and ``APIClient.create_host_config``, so every limit,
mount and device is unit-tested as data.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from docker.types import DeviceRequest
from pydantic import BaseModel, ConfigDict, Field

from dms.errors import ExecutorError
from dms.executor.contract import GPURequest, WorkloadSpec
from dms.executor.docker.state import labels_for


def _default_base_url() -> str:
    return os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"


class DockerSettings(BaseModel):
    """How dms reaches and uses a Docker Engine."""

    model_config = ConfigDict(extra="forbid")

    base_url: str = Field(default_factory=_default_base_url,
                          description="Engine API URL; default $DOCKER_HOST or the system socket")
    api_timeout_s: float = Field(default=60.0, gt=0, description="timeout of one API call")
    probe_timeout_s: float = Field(default=3.0, gt=0, description="timeout of the is_installed() ping")
    api_threads: int = Field(default=8, ge=1, description="worker threads for short API calls")
    stream_threads: int = Field(default=64, ge=1,
                                description="worker threads for waits and log follows")
    pull: bool = Field(default=True, description="pull images missing locally")
    stop_grace_s: float = Field(default=2.0, ge=0, description="SIGTERM -> SIGKILL grace on cancel")
    init: bool = Field(default=True, description="run docker-init as PID 1 (signals reach the workload)")
    tmp_size: str = Field(default="64m", description="size of the tmpfs /tmp on read-only roots")
    name_prefix: str = Field(default="dms-", description="container name = prefix + workload id")
    owner: str | None = Field(default=None, description="label dms.owner; recover() keeps to it")
    no_new_privileges: bool = True


@dataclass(frozen=True)
class CreateArgs:
    """``create_container(**container, host_config=create_host_config(**host))``."""

    container: dict[str, Any]
    host: dict[str, Any]


_NAME_BAD = re.compile(r"[^a-zA-Z0-9_.-]")


def container_name(prefix: str, workload_id: str) -> str:
    name = _NAME_BAD.sub("-", f"{prefix}{workload_id}")
    return name if name[:1].isalnum() else f"w{name}"


def gpu_args(gpus: tuple[GPURequest, ...], gids: Mapping[str, int] | None = None
             ) -> dict[str, Any]:
    """Host-config arguments giving a container the requested GPUs.

    NVIDIA: device requests (the NVIDIA container toolkit does the rest). AMD: ``/dev/kfd``
    plus the DRI nodes; Intel: the DRI nodes. ``gids`` maps host group names (``video``,
    ``render``) to numeric ids added to the container so it may open those nodes.
    """
    out: dict[str, Any] = {}
    nvidia = [g for g in gpus if g.vendor == "nvidia"]
    if nvidia:
        ids = [str(g.index) for g in nvidia if g.index is not None]
        anyn = len(nvidia) - len(ids)
        reqs = []
        if ids:
            reqs.append(DeviceRequest(driver="nvidia", device_ids=ids, capabilities=[["gpu"]]))
        if anyn:
            reqs.append(DeviceRequest(driver="nvidia", count=anyn, capabilities=[["gpu"]]))
        out["device_requests"] = reqs
    devices: list[str] = []
    dri = [g for g in gpus if g.vendor in ("amd", "intel")]
    if any(g.vendor == "amd" for g in dri):
        devices.append("/dev/kfd:/dev/kfd:rwm")
    for g in dri:
        if g.index is None:
            nodes = ["/dev/dri"]
        else:
            nodes = [f"/dev/dri/card{g.index}", f"/dev/dri/renderD{128 + g.index}"]
        for node in nodes:
            entry = f"{node}:{node}:rwm"
            if entry not in devices:
                devices.append(entry)
    if devices:
        out["devices"] = devices
        groups = [str(gids[n]) for n in ("video", "render") if gids and n in gids]
        if groups:
            out["group_add"] = groups
    return out


def create_args(spec: WorkloadSpec, settings: DockerSettings, *,
                deadline_at: float | None = None,
                gids: Mapping[str, int] | None = None) -> CreateArgs:
    """The Engine API arguments for one workload (pure)."""
    if not spec.image:
        raise ExecutorError(f"workload {spec.id} has no image",
                            hint="set execution.image for a docker workload")
    if spec.ports and not spec.network:
        raise ExecutorError(f"workload {spec.id} publishes ports with networking off",
                            hint="set network: true to publish ports")
    lim = spec.limits
    host: dict[str, Any] = {
        "network_mode": "bridge" if spec.network else "none",
        "read_only": spec.read_only_root,
        "init": settings.init,
        "binds": {},
    }
    if settings.no_new_privileges:
        host["security_opt"] = ["no-new-privileges"]
    if spec.read_only_root:
        size = settings.tmp_size if lim.disk_bytes is None else str(lim.disk_bytes)
        host["tmpfs"] = {"/tmp": f"rw,nosuid,nodev,size={size}"}
    if lim.cpus is not None:
        host["nano_cpus"] = int(lim.cpus * 1e9)
    if lim.memory_bytes is not None:
        host["mem_limit"] = lim.memory_bytes
        host["memswap_limit"] = lim.memory_bytes   # same value: no swap
    if lim.pids is not None:
        host["pids_limit"] = lim.pids
    if spec.results_dir is not None:
        host["binds"][str(spec.results_dir)] = {"bind": "/results", "mode": "rw"}
    if spec.inputs_dir is not None:
        host["binds"][str(spec.inputs_dir)] = {"bind": "/inputs", "mode": "ro"}
    if spec.ports:
        host["port_bindings"] = {f"{c}/tcp": (h or None) for h, c in spec.ports}
    host.update(gpu_args(lim.gpus, gids))
    container: dict[str, Any] = {
        "image": spec.image,
        "name": container_name(settings.name_prefix, spec.id),
        "labels": labels_for(spec, deadline_at=deadline_at, owner=settings.owner),
        "detach": True,
        "tty": False,
        "stdin_open": False,
    }
    if spec.cmd:
        container["command"] = list(spec.cmd)
    if spec.entrypoint is not None:
        container["entrypoint"] = list(spec.entrypoint)
    if spec.env:
        container["environment"] = dict(spec.env)
    if spec.working_dir:
        container["working_dir"] = spec.working_dir
    if spec.ports:
        container["ports"] = [(c, "tcp") for _, c in spec.ports]
    return CreateArgs(container=container, host=host)
