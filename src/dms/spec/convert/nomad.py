"""Nomad jobspecs (HCL2, HCL-JSON, API JSON) -> ensemble.

    job ─▶ group ─▶ one node (count -> redundancy)
             └─ task ─▶ one allocation "<group>-<task>" (or "<task>" when unique)

Drivers: ``docker`` -> docker; ``qemu`` -> qemu (``-kernel``/``-initrd``/``-append`` in
``args`` give kernel_image/initrd_path/kernel_args, ``image_path`` the root file system);
``exec``/``raw_exec``/``java`` run host processes, which dms never does: the task is
skipped with a warning. CPU: ``cores`` as is, else MHz / 1000 (1 core = 1000 MHz,
rounded up to 0.1). Memory in MB (Nomad means MiB).
"""

from __future__ import annotations

import json
import math
from typing import Any

from dms.errors import ValidationError
from dms.spec.convert.common import ConversionResult, Draft, location_from_region
from dms.spec.convert.nomad_shape import from_api, from_hcl, strip_interp

__all__ = ["MHZ_PER_CORE", "from_nomad_text"]

MHZ_PER_CORE = 1000
_HOST_DRIVERS = {"exec", "raw_exec", "java", "exec2"}


def parse_nomad(text: str) -> dict[str, Any]:
    stripped = text.lstrip()
    if stripped.startswith("{"):
        data = json.loads(text)
        if isinstance(data, dict) and "Job" in data:
            return from_api(data["Job"])
        if isinstance(data, dict) and "TaskGroups" in data:
            return from_api(data)
        return from_hcl(data)
    import hcl2  # lark grammar: loaded only when a Nomad HCL file is read

    opts = hcl2.SerializationOptions(with_comments=False, explicit_blocks=False,
                                     strip_string_quotes=True, preserve_heredocs=False)
    return from_hcl(hcl2.loads(text, serialization_options=opts))


def from_nomad_text(text: str, file: str = "<nomad>") -> ConversionResult:
    try:
        job = parse_nomad(text)
    except (ValueError, KeyError, TypeError) as exc:
        raise ValidationError(f"{file}: cannot read the Nomad job: {exc}",
                              hint="check the HCL/JSON syntax with `nomad job validate`") from exc
    except Exception as exc:  # python-hcl2 raises lark errors
        raise ValidationError(f"{file}: cannot parse the Nomad job: {exc}".splitlines()[0],
                              hint="check the HCL syntax with `nomad job validate`") from exc
    d = Draft(source="nomad")
    jname = str(job.get("name", "job"))
    jpath = f"job.{jname}"
    jtype = str(job.get("type", "service"))
    if jtype not in ("service", "batch"):
        d.warn(f"{jpath}.type", f"job type {jtype!r} cannot be expressed; translated as "
               f"{'task' if jtype == 'sysbatch' else 'service'}")
    task_type = "task" if jtype in ("batch", "sysbatch") else "service"
    job_loc, job_arch = _constraints(d, job.get("constraint") or [], jpath)
    if job.get("region") and job["region"] != "global":
        loc = location_from_region(job["region"])
        if loc:
            job_loc.append(loc)
        else:
            d.warn(f"{jpath}.region", f"region {job['region']!r} is not a continent or country; "
                   "ignored")
    if job.get("datacenters") and job["datacenters"] not in (["*"], ["dc1"]):
        d.warn(f"{jpath}.datacenters", "datacenters cannot be expressed; ignored",
               "use nodes.<name>.location to place by continent, country or city")
    d.unused(jpath, job, {"name", "id", "type", "constraint", "region", "datacenters", "group",
                          "meta"})
    if job.get("meta"):
        d.metadata["nomad_meta"] = job["meta"][0] if isinstance(job["meta"], list) else job["meta"]
    groups = job.get("group") or []
    single_task = sum(len(g.get("task") or []) for g in groups) == 1
    for g in groups:
        _group(d, g, f"{jpath}.group.{g.get('name')}", task_type, job_loc, job_arch, single_task)
    return d.finish(file)


def _constraints(d: Draft, items: list[Any], path: str) -> tuple[list[dict[str, Any]], str | None]:
    locs: list[dict[str, Any]] = []
    arch = None
    for i, c in enumerate(items):
        attr, op = strip_interp(c.get("attribute", "")), c.get("operator", "=")
        value = c.get("value")
        cpath = f"{path}.constraint[{i}]"
        if attr == "attr.cpu.arch" and op in ("=", "=="):
            arch = str(value)
        elif attr in ("node.region", "node.datacenter") and op in ("=", "=="):
            loc = location_from_region(str(value))
            if loc:
                locs.append(loc)
            else:
                d.warn(cpath, f"{attr} = {value!r} is not a continent or country; ignored")
        else:
            d.warn(cpath, f"constraint {attr} {op} {value} cannot be expressed; ignored",
                   "dms places by location and CPU architecture only")
    return locs, arch


def _group(d: Draft, g: dict[str, Any], gpath: str, task_type: str,
           job_loc: list[dict[str, Any]], job_arch: str | None, single_task: bool) -> None:
    gname = str(g.get("name", "group"))
    node: dict[str, Any] = {"allocations": []}
    count = int(g.get("count", 1))
    if count > 1:
        node["redundancy"] = count
    locs, arch = _constraints(d, g.get("constraint") or [], gpath)
    locs = job_loc + locs
    arch = arch or job_arch
    if locs:
        node["location"] = {"accept": locs}
    ports = _ports(d, g.get("network") or [], gpath)
    disk = None
    if g.get("ephemeral_disk"):
        disk = g["ephemeral_disk"][0].get("size")
    restart = (g.get("restart") or [{}])[0]
    d.unused(gpath, g, {"name", "count", "constraint", "network", "task", "restart",
                        "ephemeral_disk", "meta"})
    allocs: list[str] = []
    port_owner: dict[str, str] = {}
    for t in g.get("task") or []:
        tname = str(t.get("name", "task"))
        tpath = f"{gpath}.task.{tname}"
        alloc = _task(d, t, tpath, task_type)
        if alloc is None:
            continue
        aname = d.unique(tname if single_task or tname == gname else f"{gname}-{tname}")
        if arch:
            alloc.setdefault("resources", {}).setdefault("cpu", {})["architecture"] = arch
        if disk and not allocs:
            alloc.setdefault("resources", {})["disk"] = {"size": f"{int(disk)}MiB"}
        for label in (t.get("config") or [{}])[0].get("ports") or []:
            port_owner.setdefault(str(label), aname)
        d.allocations[aname] = alloc
        allocs.append(aname)
    if not allocs:
        d.warn(gpath, "no task could be translated; group skipped")
        return
    node["allocations"] = allocs
    for label, public, private in ports:
        node.setdefault("ports", []).append(
            {"public": public, "private": private,
             "allocation": port_owner.get(label, allocs[0])})
    d.nodes[d.unique(gname, node=True)] = node
    attempts = restart.get("attempts")
    if attempts is not None or restart.get("mode"):
        d.warn(f"{gpath}.restart", "restart attempts/interval/delay/mode cannot be expressed; "
               "the allocations are supervised OneForOne (restarted without a limit)"
               if attempts != 0 else "restart attempts = 0: not supervised")
    if attempts != 0 and task_type == "service":
        d.supervisors.append({"strategy": "OneForOne", "allocations": allocs})


def _ports(d: Draft, networks: list[Any], gpath: str) -> list[tuple[str, int, int]]:
    out = []
    for n, net in enumerate(networks):
        if net.get("mode") not in (None, "bridge", "host"):
            d.warn(f"{gpath}.network[{n}].mode", f"network mode {net['mode']} ignored")
        for p in net.get("port") or []:
            label = str(p.get("name"))
            static, to = p.get("static"), p.get("to")
            private = to or static
            if not private:
                d.warn(f"{gpath}.network.port.{label}", "a dynamic port without `to` has no "
                       "fixed private port; left out", "add `to = <port the task listens on>`")
                continue
            out.append((label, int(static or 0), int(private)))
    return out


def _task(d: Draft, t: dict[str, Any], tpath: str, task_type: str) -> dict[str, Any] | None:
    driver = str(t.get("driver", ""))
    config = (t.get("config") or [{}])[0]
    if driver in _HOST_DRIVERS:
        d.warn(f"{tpath}.driver", f"driver {driver!r} runs host processes, which dms never "
               "does; task skipped", "package the command in a container image and use "
               "driver = \"docker\"")
        return None
    alloc: dict[str, Any] = {"type": task_type}
    if driver == "docker":
        alloc["executor"] = "docker"
        ex: dict[str, Any] = {"image": config.get("image")}
        cmd = ([str(config["command"])] if config.get("command") else []) + \
            [str(a) for a in config.get("args") or []]
        if cmd:
            ex["cmd"] = cmd
        if config.get("entrypoint"):
            ex["entrypoint"] = [str(x) for x in config["entrypoint"]]
        if config.get("work_dir"):
            ex["working_directory"] = config["work_dir"]
        handled = {"image", "command", "args", "entrypoint", "work_dir", "ports"}
    elif driver == "qemu":
        alloc["executor"] = "qemu"
        ex = _qemu(d, config, f"{tpath}.config")
        handled = {"image_path", "args", "accelerator", "port_map"}
    else:
        d.warn(f"{tpath}.driver", f"driver {driver!r} has no dms executor; task skipped")
        return None
    d.unused(f"{tpath}.config", config, handled)
    env = (t.get("env") or [{}])[0]
    if env:
        ex["environment"] = {str(k): str(v) for k, v in env.items()}
    alloc["execution"] = ex
    _interpolations(d, ex, f"{tpath}")
    res = _resources(d, (t.get("resources") or [{}])[0], f"{tpath}.resources")
    if res:
        alloc["resources"] = res
    hc = _service_check(d, t.get("service") or [], tpath)
    if hc:
        alloc["healthcheck"] = hc
    d.unused(tpath, t, {"name", "driver", "config", "env", "resources", "service", "meta"})
    return alloc


def _interpolations(d: Draft, ex: dict[str, Any], tpath: str) -> None:
    """Nomad expands ``${NOMAD_PORT_http}``, ``${attr...}`` at run time; dms does not."""
    for key, value in ex.items():
        texts = value.items() if isinstance(value, dict) else \
            enumerate(value) if isinstance(value, list) else [(None, value)]
        for sub, text in texts:
            if isinstance(text, str) and "${" in text:
                where = "env" if key == "environment" else "config"
                d.warn(f"{tpath}.{where}" + (f".{sub}" if isinstance(sub, str) else ""),
                       f"Nomad interpolation in {text!r} is not expanded by dms; kept as "
                       "written", "write the final value (ports: use the node port mapping)")


def _qemu(d: Draft, config: dict[str, Any], path: str) -> dict[str, Any]:
    ex: dict[str, Any] = {}
    if config.get("image_path"):
        ex["root_file_system"] = config["image_path"]
    args = [str(a) for a in config.get("args") or []]
    flags = {"-kernel": "kernel_image", "-initrd": "initrd_path", "-append": "kernel_args"}
    rest: list[str] = []
    i = 0
    while i < len(args):
        if args[i] in flags and i + 1 < len(args):
            ex[flags[args[i]]] = args[i + 1]
            i += 2
        else:
            rest.append(args[i])
            i += 1
    if rest:
        d.warn(f"{path}.args", f"qemu arguments {rest} cannot be expressed; ignored",
               "dms starts the microVM itself; only -kernel, -initrd and -append carry over")
    if config.get("accelerator"):
        d.warn(f"{path}.accelerator", "the accelerator is chosen by the provider; ignored")
    if config.get("port_map"):
        d.warn(f"{path}.port_map", "use the group network ports instead; ignored")
    return ex


def _resources(d: Draft, r: dict[str, Any], path: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if r.get("cores"):
        out["cpu"] = {"cores": float(r["cores"])}
    elif r.get("cpu"):
        out["cpu"] = {"cores": max(0.1, math.ceil(int(r["cpu"]) / MHZ_PER_CORE * 10) / 10)}
    if r.get("memory"):
        out["ram"] = {"size": f"{int(r['memory'])}MiB"}
    if r.get("memory_max"):
        d.warn(f"{path}.memory_max", "memory oversubscription cannot be expressed; ignored")
    for dev in r.get("device") or []:
        name = str(dev.get("name", ""))
        vendor = name.split("/")[0]
        if vendor in ("nvidia", "amd", "intel") and "gpu" in name:
            out.setdefault("gpus", []).extend([{"vendor": vendor}] * int(dev.get("count", 1)))
        else:
            d.warn(f"{path}.device.{name}", f"device {name} cannot be expressed; ignored")
    d.unused(path, r, {"cpu", "cores", "memory", "memory_max", "device"})
    return out


def _service_check(d: Draft, services: list[Any], tpath: str) -> dict[str, Any] | None:
    found: dict[str, Any] | None = None
    for s, svc in enumerate(services):
        spath = f"{tpath}.service[{s}]"
        d.unused(spath, svc, {"check"}, "service registration has no ensemble equivalent; "
                 "use dns_name and node ports")
        for c, check in enumerate(svc.get("check") or []):
            cpath = f"{spath}.check[{c}]"
            ctype = check.get("type")
            hc: dict[str, Any]
            if ctype == "http":
                hc = {"type": "http", "endpoint": f"http://localhost{check.get('path', '/')}"}
            elif ctype == "script":
                hc = {"type": "command", "exec": [str(check.get("command"))] +
                      [str(a) for a in check.get("args") or []]}
            else:
                d.warn(cpath, f"{ctype} checks cannot be expressed; ignored")
                continue
            if found is not None:
                d.warn(cpath, "an allocation has one health check; extra check ignored")
                continue
            if check.get("interval"):
                hc["interval"] = check["interval"]
            d.unused(cpath, check, {"type", "path", "command", "args", "interval", "port"})
            found = hc
    return found
