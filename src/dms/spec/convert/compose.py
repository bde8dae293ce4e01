"""Docker Compose files -> ensemble.

    services.<name> ─▶ allocation <name> (docker) on node <name>
                        (deploy.replicas -> redundancy; dns_name = <name>; subnet.join
                         when there are several, so services reach each other by name)

Services are ``service`` allocations; ``restart: "no"`` or ``deploy.restart_policy.condition:
none`` makes a one-shot ``task``. ``depends_on`` becomes ordering: the services go under one RestForOne supervisor in
dependency order (a restart of a dependency restarts everything started after it).
"""

from __future__ import annotations

import re
import shlex
from graphlib import CycleError, TopologicalSorter
from typing import Any

from dms.errors import ValidationError
from dms.spec.convert.common import ConversionResult, Draft, cpu_quantity
from dms.spec.units import UnitError, parse_duration, parse_size

__all__ = ["from_compose_data"]

_HINTS = {
    "volumes": "use allocation volumes, or inputs/outputs for data in storage (s3://...)",
    "networks": "allocations on the ensemble subnet reach each other by dns_name",
    "secrets": "put values in execution.environment or keys",
    "configs": "use a provision script or bake the file into the image",
    "env_file": "list the variables under execution.environment",
    "build": "build and push the image, then set `image:`",
    "expose": "expose ports with nodes.<name>.ports",
    "labels": "use top-level metadata",
}
_HANDLED = {"volumes", "image", "command", "entrypoint", "environment", "ports", "deploy", "depends_on",
            "working_dir", "healthcheck", "cpus", "mem_limit", "restart", "container_name",
            "hostname"}


def from_compose_data(data: dict[str, Any], file: str = "<compose>") -> ConversionResult:
    services = data.get("services")
    if not isinstance(services, dict):
        raise ValidationError(f"{file}: no `services` mapping found",
                              hint="a Compose file lists its containers under `services:`")
    d = Draft(source="compose")
    d.unused("", data, {"services", "version", "name", "volumes"}, hints=_HINTS)
    for vname, vspec in (data.get("volumes") or {}).items():
        d.unused(f"volumes.{vname}", vspec, set(),
                 "volume drivers and options are the provider's choice")
    deps: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    restarts: dict[str, bool] = {}
    for sname, svc in services.items():
        path = f"services.{sname}"
        svc = svc or {}
        aname = d.unique(str(sname))
        names[str(sname)] = aname
        alloc, node = _service(d, svc, path, aname)
        if alloc is None:
            continue
        d.allocations[aname] = alloc
        d.nodes[aname] = node
        dep = svc.get("depends_on") or []
        deps[aname] = [str(x) for x in dep]
        if isinstance(dep, dict):
            for dname, cond in dep.items():
                if (cond or {}).get("condition") not in (None, "service_started"):
                    d.warn(f"{path}.depends_on.{dname}.condition",
                           f"condition {cond['condition']!r} cannot be expressed; only start "
                           "order is kept")
        restarts[aname] = str(svc.get("restart", "no")) != "no"
    for aname, ds in deps.items():
        deps[aname] = [names.get(x, x) for x in ds if names.get(x, x) in d.allocations]
    if any(deps.values()):
        try:
            order = list(TopologicalSorter(deps).static_order())
        except CycleError as exc:
            raise ValidationError(f"{file}: depends_on has a cycle: {exc.args[1]}",
                                  hint="remove one of the dependencies in the cycle") from exc
        d.supervisors.append({"strategy": "RestForOne", "allocations": order})
        d.metadata["depends_on"] = {k: v for k, v in deps.items() if v}
    else:
        supervised = [a for a in d.allocations if restarts.get(a)]
        if supervised:
            d.supervisors.append({"strategy": "OneForOne", "allocations": supervised})
    return d.finish(file)


def _substitutions(d: Draft, value: Any, path: str) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _substitutions(d, v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _substitutions(d, v, f"{path}[{i}]")
    elif isinstance(value, str) and "${" in value:
        d.warn(path, f"variable substitution in {value!r} is not performed; kept as written",
               "run `docker compose config` first, and translate its output")


def _service(d: Draft, svc: dict[str, Any], path: str,
             aname: str) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    _substitutions(d, svc, path)
    if not svc.get("image"):
        d.warn(f"{path}.build" if svc.get("build") else path,
               "a service without `image` cannot run on a provider; skipped",
               "build and push the image, then set `image:`")
        return None, {}
    ex: dict[str, Any] = {"image": svc["image"]}
    for key, target in (("command", "cmd"), ("entrypoint", "entrypoint")):
        if svc.get(key) is not None:
            v = svc[key]
            ex[target] = shlex.split(v) if isinstance(v, str) else [str(x) for x in v]
    if svc.get("working_dir"):
        ex["working_directory"] = svc["working_dir"]
    env = _environment(svc.get("environment"))
    if env:
        ex["environment"] = env
    # Compose services are long-running unless the file says they must not be restarted
    one_shot = str(svc.get("restart")) == "no" or str(
        ((svc.get("deploy") or {}).get("restart_policy") or {}).get("condition")) == "none"
    alloc: dict[str, Any] = {"type": "task" if one_shot else "service",
                             "executor": "docker", "execution": ex, "dns_name": aname}
    node: dict[str, Any] = {"allocations": [aname]}
    res = _deploy(d, svc, path, node)
    if res:
        alloc["resources"] = res
    ports = []
    for i, p in enumerate(svc.get("ports") or []):
        ports += _port(d, p, f"{path}.ports[{i}]", aname)
    if ports:
        node["ports"] = ports
    volumes = []
    for i, v in enumerate(svc.get("volumes") or []):
        vol = _volume(d, v, f"{path}.volumes[{i}]")
        if vol:
            volumes.append(vol)
    if volumes:
        alloc["volumes"] = volumes
    if svc.get("healthcheck"):
        hc = _healthcheck(d, svc["healthcheck"], f"{path}.healthcheck")
        if hc:
            alloc["healthcheck"] = hc
    if svc.get("restart") not in (None, "no", "always", "unless-stopped", "on-failure"):
        d.warn(f"{path}.restart", f"restart {svc['restart']!r} is not understood; ignored")
    d.unused(path, svc, _HANDLED, hints=_HINTS)
    return alloc, node


def _volume(d: Draft, v: Any, path: str) -> dict[str, Any] | None:
    """Named and anonymous volumes carry over; host bind mounts and tmpfs do not."""
    if isinstance(v, dict):
        vtype = str(v.get("type", "volume"))
        source, target = v.get("source"), v.get("target")
        read_only = bool(v.get("read_only"))
        d.unused(path, v, {"type", "source", "target", "read_only"})
    else:
        parts = str(v).split(":")
        if len(parts) == 1:
            source, target, mode = None, parts[0], ""
        else:
            source, target, mode = parts[0], parts[1], (parts[2] if len(parts) > 2 else "")
        vtype = "bind" if source and source.startswith(("/", ".", "~")) else "volume"
        read_only = "ro" in mode.split(",")
    if vtype != "volume" or not target:
        why = "host paths do not exist on a provider" if vtype == "bind" else \
            "only named and anonymous volumes carry over"
        d.warn(path, f"{vtype} mount {v!r} cannot be expressed ({why}); left out",
               "use inputs (s3://...) or bake the files into the image")
        return None
    out: dict[str, Any] = {"target": str(target)}
    if source:
        out["source"] = str(source)
    if read_only:
        out["read_only"] = True
    return out


def _environment(env: Any) -> dict[str, str]:
    if isinstance(env, dict):
        return {str(k): "" if v is None else str(v).lower() if isinstance(v, bool) else str(v)
                for k, v in env.items()}
    out = {}
    for item in env or []:
        k, _, v = str(item).partition("=")
        out[k] = v
    return out


_SHORT = re.compile(r"^(?:(?P<ip>\d+\.\d+\.\d+\.\d+|\[[^\]]+\]):)?(?:(?P<pub>[\d-]*):)?(?P<priv>[\d-]+)"
                    r"(?:/(?P<proto>\w+))?$")


def _port(d: Draft, p: Any, path: str, aname: str) -> list[dict[str, Any]]:
    if isinstance(p, dict):
        if str(p.get("protocol", "tcp")) != "tcp":
            d.warn(f"{path}.protocol", "only tcp ports can be expressed; port left out")
            return []
        if p.get("host_ip"):
            d.warn(f"{path}.host_ip", "host_ip cannot be expressed; ignored")
        d.unused(path, p, {"target", "published", "protocol", "host_ip", "mode"})
        return [{"public": int(str(p.get("published") or 0)), "private": int(p["target"]),
                 "allocation": aname}]
    m = _SHORT.match(str(p))
    if not m:
        d.warn(path, f"cannot read port {p!r}; left out")
        return []
    if m.group("proto") not in (None, "tcp"):
        d.warn(path, f"{m.group('proto')} ports cannot be expressed; port left out")
        return []
    if m.group("ip"):
        d.warn(path, f"binding to {m.group('ip')} cannot be expressed; ignored")
    pubs = _range(m.group("pub") or "0")
    privs = _range(m.group("priv"))
    if len(pubs) == 1 and len(privs) > 1:
        pubs = pubs * len(privs) if pubs == [0] else pubs
    if len(pubs) != len(privs):
        d.warn(path, f"port ranges of different length in {p!r}; left out")
        return []
    return [{"public": a, "private": b, "allocation": aname} for a, b in zip(pubs, privs,
                                                                              strict=True)]


def _range(text: str) -> list[int]:
    if "-" in text:
        lo, hi = text.split("-", 1)
        return list(range(int(lo), int(hi) + 1))
    return [int(text)]


def _deploy(d: Draft, svc: dict[str, Any], path: str, node: dict[str, Any]) -> dict[str, Any]:
    res: dict[str, Any] = {}
    deploy = svc.get("deploy") or {}
    dpath = f"{path}.deploy"
    if deploy.get("replicas") is not None and int(deploy["replicas"]) > 1:
        node["redundancy"] = int(deploy["replicas"])
    d.unused(dpath, deploy, {"replicas", "resources", "restart_policy"})
    policy = deploy.get("restart_policy") or {}
    if set(policy) - {"condition"}:
        d.warn(f"{dpath}.restart_policy", "restart limits and delays cannot be expressed; "
               "ignored")
    r = deploy.get("resources") or {}
    d.unused(f"{dpath}.resources", r, {"limits", "reservations"})
    for section in ("reservations", "limits"):  # limits win, as for Kubernetes
        spec = r.get(section) or {}
        spath = f"{dpath}.resources.{section}"
        if spec.get("cpus") is not None:
            res["cpu"] = {"cores": cpu_quantity(spec["cpus"])}
        if spec.get("memory") is not None:
            res["ram"] = {"size": _size(spec["memory"])}
        for i, dev in enumerate(spec.get("devices") or []):
            caps = dev.get("capabilities") or []
            driver = str(dev.get("driver", "nvidia"))
            if "gpu" in caps and driver in ("nvidia", "amd", "intel"):
                count = dev.get("count", 1)
                n = 1 if count == "all" else int(count)
                if count == "all":
                    d.warn(f"{spath}.devices[{i}].count", "count: all translated as 1 GPU")
                res["gpus"] = [{"vendor": driver}] * n
            else:
                d.warn(f"{spath}.devices[{i}]", "only GPU devices can be expressed; ignored")
        d.unused(spath, spec, {"cpus", "memory", "devices"})
    if svc.get("cpus") is not None:
        res["cpu"] = {"cores": cpu_quantity(svc["cpus"])}
    if svc.get("mem_limit") is not None:
        res["ram"] = {"size": _size(svc["mem_limit"])}
    return res


def _size(v: Any) -> int:
    # Compose writes "512M" / "1g": binary units, lower case allowed
    return parse_size(str(v).upper() if isinstance(v, str) else v)


def _healthcheck(d: Draft, hc: dict[str, Any], path: str) -> dict[str, Any] | None:
    if hc.get("disable"):
        return None
    test = hc.get("test")
    if isinstance(test, str):
        cmd = ["/bin/sh", "-c", test]
    elif isinstance(test, list) and test and test[0] in ("CMD", "CMD-SHELL"):
        cmd = [str(x) for x in test[1:]] if test[0] == "CMD" else \
            ["/bin/sh", "-c", " ".join(str(x) for x in test[1:])]
    else:
        d.warn(f"{path}.test", f"health check test {test!r} cannot be expressed; ignored")
        return None
    out: dict[str, Any] = {"type": "command", "exec": cmd}
    if hc.get("interval"):
        try:
            out["interval"] = parse_duration(str(hc["interval"]))
        except UnitError:
            d.warn(f"{path}.interval", f"cannot read interval {hc['interval']!r}; using 30s")
    d.unused(path, hc, {"test", "interval", "disable"})
    return out



