"""Hypothesis strategies for valid ensembles (as plain data, before validation).

Imported by the spec property tests (pytest puts this directory on sys.path).
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

NAMES = st.from_regex(r"\A[a-z][a-z0-9_-]{0,11}\Z")
# any text YAML can carry: this is what finds quoting bugs in the dumper
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=20)
SIZES = st.one_of(st.just(0), st.integers(2**20, 2**50), st.sampled_from(["512MiB", "1GiB", "1.5G", "500MB"]))
DURATIONS = st.one_of(st.integers(0, 10**6), st.sampled_from(["30s", "5m", "1h30m", "250ms"]))


@st.composite
def executions(draw: st.DrawFn, executor: str) -> dict[str, Any]:
    env = draw(st.dictionaries(st.from_regex(r"\A[A-Z_][A-Z0-9_]{0,8}\Z"), TEXT, max_size=3))
    argv = st.lists(TEXT, max_size=3)
    if executor == "docker":
        out: dict[str, Any] = {"image": draw(st.sampled_from(["nginx:1.25", "redis:7",
                                                              "ghcr.io/x/y:1"]))}
        if draw(st.booleans()):
            out["cmd"] = draw(argv)
        if draw(st.booleans()):
            out["entrypoint"] = draw(argv)
        if env:
            out["environment"] = env
        if draw(st.booleans()):
            out["working_directory"] = draw(TEXT)
        return out
    if executor in ("firecracker", "qemu", "microvm"):
        out = {"kernel_image": draw(TEXT.filter(bool))}
        for key in ("root_file_system", "initrd_path", "kernel_args"):
            if draw(st.booleans()):
                out[key] = draw(TEXT)
        return out
    out = {"module": draw(TEXT.filter(bool))}
    if draw(st.booleans()):
        out["args"] = draw(argv)
    if env:
        out["environment"] = env
    return out


@st.composite
def allocations(draw: st.DrawFn) -> dict[str, Any]:
    executor = draw(st.sampled_from(["docker", "firecracker", "qemu", "microvm", "wasm"]))
    alloc: dict[str, Any] = {"executor": executor, "execution": draw(executions(executor))}
    if draw(st.booleans()):
        alloc["type"] = draw(st.sampled_from(["task", "service"]))
    res: dict[str, Any] = {}
    if draw(st.booleans()):
        res["cpu"] = {"cores": draw(st.floats(0.01, 256, allow_nan=False))}
        if draw(st.booleans()):
            res["cpu"]["architecture"] = draw(st.sampled_from(["amd64", "arm64"]))
    if draw(st.booleans()):
        res["ram"] = {"size": draw(SIZES)}
    if draw(st.booleans()):
        res["disk"] = {"size": draw(SIZES)}
    gpus = draw(st.lists(st.fixed_dictionaries(
        {"vendor": st.sampled_from(["nvidia", "amd", "intel"])},
        optional={"model": TEXT, "vram": SIZES}), max_size=2))
    if gpus:
        res["gpus"] = gpus
    if res:
        alloc["resources"] = res
    if draw(st.booleans()):
        alloc["dns_name"] = draw(NAMES)
    if draw(st.booleans()):
        alloc["healthcheck"] = draw(st.one_of(
            st.fixed_dictionaries({"type": st.just("command"), "exec": st.lists(TEXT, min_size=1,
                                                                                max_size=2)},
                                  optional={"interval": DURATIONS}),
            st.fixed_dictionaries({"type": st.just("http"), "endpoint": TEXT.filter(bool)},
                                  optional={"response": st.fixed_dictionaries(
                                      {"value": TEXT}, optional={"type": st.sampled_from(
                                          ["contains", "equals", "status"])})})))
    if draw(st.booleans()):
        alloc["inputs"] = [{"url": draw(st.sampled_from(["s3://b/k", "https://x/y", "/d"])),
                            "path": draw(TEXT)}]
    if draw(st.booleans()):
        alloc["volumes"] = [draw(st.fixed_dictionaries(
            {"target": TEXT}, optional={"source": TEXT, "size": SIZES,
                                        "read_only": st.booleans()}))]
    return alloc


@st.composite
def ensembles(draw: st.DrawFn) -> dict[str, Any]:
    names = draw(st.lists(NAMES, min_size=1, max_size=6, unique=True))
    allocs = {n: draw(allocations()) for n in names}
    node_names = draw(st.lists(NAMES, min_size=1, max_size=len(names), unique=True))
    nodes: dict[str, Any] = {n: {"allocations": []} for n in node_names}
    for a in names:
        nodes[draw(st.sampled_from(node_names))]["allocations"].append(a)
    for node in nodes.values():
        if node["allocations"] and draw(st.booleans()):
            publics = draw(st.lists(st.integers(1, 65535), max_size=3, unique=True))
            node["ports"] = [{"public": p, "private": i + 1,
                              "allocation": draw(st.sampled_from(node["allocations"]))}
                             for i, p in enumerate(publics)]
        if draw(st.booleans()):
            node["redundancy"] = draw(st.integers(1, 5))
        if draw(st.booleans()):
            node["location"] = {"accept": [{"country": draw(st.sampled_from(["DE", "US"]))}],
                                "reject": [{"asn": draw(st.integers(0, 2**32))}]}
        if draw(st.booleans()):
            node["peer"] = draw(TEXT)
    data: dict[str, Any] = {"version": draw(st.sampled_from(["V1", "v1", 1])),
                            "allocations": allocs, "nodes": nodes}
    if len(node_names) > 1 and draw(st.booleans()):
        s, t = draw(st.permutations(node_names))[:2]
        data["edge_constraints"] = [{"s": s, "t": t, "rtt": draw(st.integers(0, 1000)),
                                     "bw": draw(st.integers(0, 10**5))}]
    if draw(st.booleans()):
        pool = list(names)
        head = pool[: len(pool) // 2]
        tail = pool[len(pool) // 2:]
        data["supervisor"] = {
            "strategy": draw(st.sampled_from(["OneForOne", "AllForOne", "RestForOne"])),
            "allocations": head,
            "children": [{"strategy": "RestForOne", "allocations": tail}] if tail else []}
    if draw(st.booleans()):
        data["metadata"] = draw(st.dictionaries(NAMES, TEXT, max_size=3))
    if draw(st.booleans()):
        data["subnet"] = {"join": draw(st.booleans())}
    return data
