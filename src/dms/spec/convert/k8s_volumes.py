"""Kubernetes volumes -> allocation volumes.

    emptyDir                      -> {target, size: sizeLimit}        (scratch space)
    persistentVolumeClaim         -> {source: claimName, target}
    StatefulSet volumeClaimTemplates -> {source: name, target, size: requests.storage}
    hostPath, configMap, secret, ... -> warning (host paths and cluster objects do not
                                        exist on a provider)
"""

from __future__ import annotations

from typing import Any

from dms.spec.convert.common import Draft, mem_quantity

__all__ = ["mounts", "sources"]

_HINT = "put files in the image, a provision script, or inputs (s3://...)"


def sources(d: Draft, volumes: Any, path: str, templates: Any,
            tpath: str) -> dict[str, dict[str, Any] | None]:
    """Volume name -> what a mount of it becomes (``None``: cannot be expressed, warned)."""
    out: dict[str, dict[str, Any] | None] = {}
    for i, v in enumerate(volumes or []):
        name = str(v.get("name"))
        vpath = f"{path}[{i}]"
        if "emptyDir" in v:
            src: dict[str, Any] = {}
            limit = (v.get("emptyDir") or {}).get("sizeLimit")
            if limit is not None:
                src["size"] = _size(d, limit, f"{vpath}.emptyDir.sizeLimit")
            out[name] = src
        elif "persistentVolumeClaim" in v:
            out[name] = {"source": str(v["persistentVolumeClaim"].get("claimName", name))}
        else:
            kind = next((k for k in v if k != "name"), "?")
            d.warn(f"{vpath}.{kind}", f"{kind} volume {name!r} cannot be expressed; its "
                   "mounts are left out", _HINT)
            out[name] = None
    for i, t in enumerate(templates or []):
        name = str((t.get("metadata") or {}).get("name"))
        src = {"source": name}
        storage = (((t.get("spec") or {}).get("resources") or {}).get("requests")
                   or {}).get("storage")
        if storage is not None:
            src["size"] = _size(d, storage, f"{tpath}[{i}].spec.resources.requests.storage")
        out[name] = src
    return out


def mounts(d: Draft, items: Any, path: str,
           known: dict[str, dict[str, Any] | None]) -> list[dict[str, Any]]:
    out = []
    for i, m in enumerate(items or []):
        mpath = f"{path}[{i}]"
        name = str(m.get("name"))
        if name not in known:
            d.warn(mpath, f"mount of undefined volume {name!r}; left out")
            continue
        src = known[name]
        if src is None:
            continue
        vol = {"target": str(m.get("mountPath")), **src}
        if m.get("readOnly"):
            vol["read_only"] = True
        if m.get("subPath"):
            d.warn(f"{mpath}.subPath", "subPath cannot be expressed; the whole volume is "
                   "mounted")
        out.append(vol)
    return out


def _size(d: Draft, value: Any, path: str) -> int | None:
    try:
        return mem_quantity(value)
    except ValueError as exc:
        d.warn(path, f"{exc}; size left out")
        return None
