"""Kubernetes manifests -> ensemble.

    Pod | Deployment | StatefulSet | ReplicaSet | DaemonSet | Job | CronJob (per document)
      └─ pod template ─▶ one node (replicas -> redundancy)
            └─ each container ─▶ one allocation "<workload>-<container>"

Job/CronJob and pods with ``restartPolicy: Never|OnFailure`` become ``task``s, the rest
``service``s. Pods that restart (Always/OnFailure) get a OneForOne supervisor over their
containers. CronJob schedules cannot be expressed: the job template is translated and the
schedule reported.
"""

from __future__ import annotations

from typing import Any

from dms.spec.convert import k8s_volumes
from dms.spec.convert.common import (
    ConversionResult,
    Draft,
    cpu_quantity,
    location_from_region,
    mem_quantity,
)

__all__ = ["from_k8s_documents"]

_WORKLOADS = {"Pod", "Deployment", "StatefulSet", "ReplicaSet", "DaemonSet", "Job", "CronJob",
              "ReplicationController"}
_GPU_RESOURCES = {"nvidia.com/gpu": "nvidia", "amd.com/gpu": "amd", "gpu.intel.com/i915": "intel"}
_ARCH_LABELS = {"kubernetes.io/arch", "beta.kubernetes.io/arch"}
_REGION_LABELS = {"topology.kubernetes.io/region", "failure-domain.beta.kubernetes.io/region"}
_COUNTRY_LABELS = {"dms.io/country": "country", "dms.io/continent": "continent",
                   "dms.io/city": "city"}


def from_k8s_documents(docs: list[Any], file: str = "<k8s>") -> ConversionResult:
    d = Draft(source="kubernetes")
    for i, doc in enumerate(docs):
        if doc is None:
            continue
        where = f"[{i}]" if len(docs) > 1 else ""
        if not isinstance(doc, dict) or "kind" not in doc:
            d.warn(where or "<document>", "not a Kubernetes object (no `kind`); skipped")
            continue
        kind = doc["kind"]
        if kind == "List":
            for j, item in enumerate(doc.get("items") or []):
                _object(d, item, f"{where}.items[{j}]".lstrip("."))
            continue
        _object(d, doc, where)
    _apply_arch(d)
    return d.finish(file)


def _object(d: Draft, doc: dict[str, Any], where: str) -> None:
    kind = doc.get("kind")
    name = (doc.get("metadata") or {}).get("name") or str(kind).lower()
    base = f"{where}{'.' if where else ''}{kind}/{name}"
    if kind not in _WORKLOADS:
        d.warn(base, f"kind {kind} has no ensemble equivalent; skipped",
               "Services/Ingresses: publish ports on the node instead; "
               "ConfigMaps/Secrets: put values in execution.environment")
        return
    spec = doc.get("spec") or {}
    replicas = 1
    task = kind in ("Job", "CronJob")
    if kind != "Pod":
        d.unused(f"{base}.spec", spec, _SPEC_KEYS | set(_JOB_KEYS))
    if kind == "Pod":
        pod, pod_path = spec, f"{base}.spec"
    elif kind == "CronJob":
        d.warn(f"{base}.spec.schedule",
               f"schedule {spec.get('schedule')!r} cannot be expressed: ensembles run once",
               "deploy the translated ensemble from cron (or a timer) with `dms deploy`")
        job = (spec.get("jobTemplate") or {}).get("spec") or {}
        pod, pod_path = (job.get("template") or {}).get("spec") or {}, \
            f"{base}.spec.jobTemplate.spec.template.spec"
        _job_fields(d, job, f"{base}.spec.jobTemplate.spec")
        d.unused(f"{base}.spec.jobTemplate.spec", job, {"template", *_JOB_KEYS})
    else:
        pod = (spec.get("template") or {}).get("spec") or {}
        pod_path = f"{base}.spec.template.spec"
        if kind == "Job":
            _job_fields(d, spec, f"{base}.spec")
        else:
            replicas = int(spec.get("replicas", 1))
        if kind == "DaemonSet":
            d.warn(f"{base}", "a DaemonSet runs on every machine; translated as one copy",
                   "raise the node's `redundancy` for more copies")
    restart = pod.get("restartPolicy", "OnFailure" if task else "Always")
    if kind == "Pod" and restart in ("Never", "OnFailure"):
        task = True
    node_name = d.unique(name, node=True)
    node: dict[str, Any] = {"allocations": []}
    if replicas != 1:
        if replicas < 1:
            d.warn(f"{base}.spec.replicas", "replicas 0 cannot be deployed; using 1")
        else:
            node["redundancy"] = replicas
    _placement(d, pod, pod_path, node)
    for ckey in ("initContainers", "ephemeralContainers"):
        if pod.get(ckey):
            d.warn(f"{pod_path}.{ckey}", f"{ckey} cannot be expressed; skipped",
                   "fold their work into the main image or a provision script")
    handled = {"containers", "initContainers", "ephemeralContainers", "restartPolicy",
               "nodeSelector", "affinity", "volumes"}
    d.unused(pod_path, pod, handled)
    volumes = k8s_volumes.sources(d, pod.get("volumes"), f"{pod_path}.volumes",
                                  spec.get("volumeClaimTemplates") if kind == "StatefulSet"
                                  else None, f"{base}.spec.volumeClaimTemplates")
    allocs = []
    for j, c in enumerate(pod.get("containers") or []):
        cname = str(c.get("name") or f"c{j}")
        aname = d.unique(name if cname == name else f"{name}-{cname}")
        cpath = f"{pod_path}.containers[{j}]"
        alloc = _container(d, c, cpath, task, node, aname)
        mounted = k8s_volumes.mounts(d, c.get("volumeMounts"), f"{cpath}.volumeMounts",
                                     volumes)
        if mounted:
            alloc["volumes"] = mounted
        d.allocations[aname] = alloc
        node["allocations"].append(aname)
        allocs.append(aname)
    if not allocs:
        d.warn(pod_path, "no containers; skipped")
        return
    d.nodes[node_name] = node
    if restart in ("Always", "OnFailure"):
        d.supervisors.append({"strategy": "OneForOne", "allocations": allocs})


_JOB_KEYS = ("completions", "parallelism", "backoffLimit", "activeDeadlineSeconds",
             "ttlSecondsAfterFinished")
#: workload spec keys read here or meaningless outside a cluster (selectors, service names)
_SPEC_KEYS = {"replicas", "selector", "template", "serviceName", "volumeClaimTemplates",
              "schedule", "jobTemplate"}


def _job_fields(d: Draft, spec: dict[str, Any], path: str) -> None:
    for key in _JOB_KEYS:
        if key in spec:
            d.warn(f"{path}.{key}", f"{key} cannot be expressed; ignored")


def _container(d: Draft, c: dict[str, Any], path: str, task: bool, node: dict[str, Any],
               aname: str) -> dict[str, Any]:
    execution: dict[str, Any] = {"image": c.get("image")}
    if c.get("command"):
        execution["entrypoint"] = [str(x) for x in c["command"]]
    if c.get("args"):
        execution["cmd"] = [str(x) for x in c["args"]]
    if c.get("workingDir"):
        execution["working_directory"] = c["workingDir"]
    env: dict[str, str] = {}
    for k, e in enumerate(c.get("env") or []):
        if "value" in e:
            env[str(e["name"])] = str(e["value"])
        elif "valueFrom" in e:
            d.warn(f"{path}.env[{k}].valueFrom",
                   f"{e.get('name')}: values from Secrets/ConfigMaps/fields cannot be "
                   "expressed; left out", "set the value inline under execution.environment")
        else:
            env[str(e["name"])] = ""
    if c.get("envFrom"):
        d.warn(f"{path}.envFrom", "envFrom cannot be expressed; left out",
               "list the variables under execution.environment")
    if env:
        execution["environment"] = env
    alloc: dict[str, Any] = {"type": "task" if task else "service", "executor": "docker",
                             "execution": execution}
    res = _resources(d, c.get("resources") or {}, f"{path}.resources")
    if res:
        alloc["resources"] = res
    for k, p in enumerate(c.get("ports") or []):
        ppath = f"{path}.ports[{k}]"
        if str(p.get("protocol", "TCP")).upper() != "TCP":
            d.warn(f"{ppath}.protocol", f"protocol {p['protocol']} ports are not supported; "
                   "port left out")
            continue
        node.setdefault("ports", []).append(
            {"public": int(p.get("hostPort", 0)), "private": int(p["containerPort"]),
             "allocation": aname})
    probe = c.get("livenessProbe")
    if probe:
        hc = _probe(d, probe, f"{path}.livenessProbe")
        if hc:
            alloc["healthcheck"] = hc
    handled = {"name", "image", "command", "args", "workingDir", "env", "envFrom",
               "resources", "ports", "livenessProbe", "imagePullPolicy", "volumeMounts"}
    d.unused(path, c, handled)
    return alloc


def _resources(d: Draft, r: dict[str, Any], path: str) -> dict[str, Any]:
    # limits bound what the container may use, so they are what a provider must offer;
    # requests fill in where no limit is set
    merged = {**(r.get("requests") or {}), **(r.get("limits") or {})}
    out: dict[str, Any] = {}
    for key, value in merged.items():
        src = "limits" if key in (r.get("limits") or {}) else "requests"
        try:
            if key == "cpu":
                out["cpu"] = {"cores": cpu_quantity(value)}
            elif key == "memory":
                out["ram"] = {"size": mem_quantity(value)}
            elif key == "ephemeral-storage":
                out["disk"] = {"size": mem_quantity(value)}
            elif key in _GPU_RESOURCES:
                out["gpus"] = [{"vendor": _GPU_RESOURCES[key]}] * int(value)
            else:
                d.warn(f"{path}.{src}.{key}", f"resource {key} cannot be expressed; ignored")
        except ValueError as exc:
            d.warn(f"{path}.{src}.{key}", f"{exc}; ignored")
    return out


def _probe(d: Draft, probe: dict[str, Any], path: str) -> dict[str, Any] | None:
    hc: dict[str, Any]
    if "exec" in probe:
        hc = {"type": "command", "exec": [str(x) for x in probe["exec"].get("command") or []]}
    elif "httpGet" in probe:
        g = probe["httpGet"]
        scheme = str(g.get("scheme", "HTTP")).lower()
        hc = {"type": "http",
              "endpoint": f"{scheme}://{g.get('host', 'localhost')}:{g.get('port', 80)}"
                          f"{g.get('path', '/')}"}
    else:
        d.warn(path, "only exec and httpGet probes can be expressed; probe left out")
        return None
    if "periodSeconds" in probe:
        hc["interval"] = int(probe["periodSeconds"])
    d.unused(path, probe, {"exec", "httpGet", "periodSeconds"})
    return hc


def _placement(d: Draft, pod: dict[str, Any], path: str, node: dict[str, Any]) -> None:
    accept: list[dict[str, Any]] = []
    reject: list[dict[str, Any]] = []
    arch: str | None = None
    for key, value in (pod.get("nodeSelector") or {}).items():
        kpath = f"{path}.nodeSelector.{key}"
        loc = _label_location(key, value)
        if key in _ARCH_LABELS:
            arch = str(value)
        elif loc:
            accept.append(loc)
        else:
            d.warn(kpath, f"node label {key}={value} cannot be expressed; ignored",
                   "dms places by location (continent/country/city) and CPU architecture")
    affinity = pod.get("affinity") or {}
    for akey in affinity:
        if akey != "nodeAffinity":
            d.warn(f"{path}.affinity.{akey}", f"{akey} cannot be expressed; ignored",
                   "place allocations that must share a machine on the same node")
    na = affinity.get("nodeAffinity") or {}
    if "preferredDuringSchedulingIgnoredDuringExecution" in na:
        d.warn(f"{path}.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution",
               "preferences cannot be expressed (only hard constraints); ignored")
    req = na.get("requiredDuringSchedulingIgnoredDuringExecution") or {}
    for t, term in enumerate(req.get("nodeSelectorTerms") or []):
        for k, ex in enumerate(term.get("matchExpressions") or []):
            epath = f"{path}.affinity.nodeAffinity.required...nodeSelectorTerms[{t}]." \
                    f"matchExpressions[{k}]"
            key, op, values = ex.get("key"), ex.get("operator"), ex.get("values") or []
            if key in _ARCH_LABELS and op == "In" and len(values) == 1:
                arch = str(values[0])
                continue
            locs = [_label_location(key, v) for v in values]
            if op in ("In", "NotIn") and locs and all(locs):
                (accept if op == "In" else reject).extend(x for x in locs if x)
            else:
                d.warn(epath, f"{key} {op} {values} cannot be expressed; ignored")
    if accept or reject:
        node["location"] = {k: v for k, v in (("accept", accept), ("reject", reject)) if v}
    if arch:
        node["_arch"] = arch


def _label_location(key: str, value: Any) -> dict[str, Any] | None:
    if key in _REGION_LABELS:
        return location_from_region(str(value))
    if key in _COUNTRY_LABELS:
        return {_COUNTRY_LABELS[key]: str(value)}
    return None


def _apply_arch(d: Draft) -> None:
    """Move node-level ``_arch`` markers onto each allocation's cpu.architecture."""
    for node in d.nodes.values():
        arch = node.pop("_arch", None)
        if arch:
            for a in node["allocations"]:
                cpu = d.allocations[a].setdefault("resources", {}).setdefault("cpu", {})
                cpu["architecture"] = arch

