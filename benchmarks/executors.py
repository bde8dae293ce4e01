"""Executor benchmarks: start-to-exit of a hello workload, printed as one JSON object.

    .venv/bin/python benchmarks/executors.py [--runs N] [--only docker,microvm,wasm]

One function per executor returns its keys; ``main`` merges them. An executor that
cannot run here reports ``<name>_error`` instead of failing the others.

docker: ``docker_hello_ms`` is the median of start() + wait() + logs() through the dms
executor; ``docker_sdk_hello_ms`` the median of a bare ``client.containers.run(image,
cmd)`` (create, start, wait, logs) on the same daemon and image, interleaved with the
dms runs; ``docker_ratio`` = dms / sdk (target <= 1.15). dms runs with network off, which is
cheaper than the SDK's default bridge, so ``docker_sdk_isolated_hello_ms`` /
``docker_ratio_isolated`` also compare against the SDK with the same isolation options
(network none, read-only root, tmpfs /tmp, init, no-new-privileges). All use the tests' own dockerd
and the registry-free busybox image (``dms.testing``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

import trio

Bench = Callable[[int], dict[str, Any]]


def _ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 1)


async def _timed_hello(ex: Any, spec: Any) -> tuple[float, Any, list[bytes]]:
    """start() + wait() + logs() of one workload through a dms executor: the seconds it
    took, its exit status and its output lines; the workload is removed afterwards."""
    t0 = time.perf_counter()
    handle = await ex.start(spec)
    status = await ex.wait(handle)
    lines = [line.data async for line in ex.logs(handle)]
    elapsed = time.perf_counter() - t0
    await ex.remove(handle)
    return elapsed, status, lines


def _sample(once: Callable[[], Any], runs: int, warmup: int) -> list[float]:
    """``runs`` timings of ``once`` (an async () -> seconds) after ``warmup`` uncounted ones."""
    samples: list[float] = []

    async def main() -> None:
        for i in range(runs + warmup):
            elapsed = await once()
            if i >= warmup:
                samples.append(elapsed)

    trio.run(main)
    return samples


def bench_docker(runs: int) -> dict[str, Any]:
    import docker

    from dms.executor.contract import WorkloadSpec
    from dms.executor.docker import DockerExecutor, DockerSettings
    from dms.testing.dockerd import ensure_dockerd
    from dms.testing.images import ensure_busybox_image

    url = ensure_dockerd()
    image = ensure_busybox_image(url)
    cmd = ["echo", "hello"]
    client = docker.DockerClient(base_url=url)
    ex = DockerExecutor(DockerSettings(base_url=url, owner="bench"))
    dms_s: list[float] = []
    sdk_s: list[float] = []

    async def dms_once() -> float:
        spec = WorkloadSpec(id=f"bench-{uuid.uuid4().hex[:10]}", executor="docker",
                            image=image, cmd=tuple(cmd))
        elapsed, status, lines = await _timed_hello(ex, spec)
        assert status.ok and lines and lines[0] == b"hello", (status, lines)
        return elapsed

    # the same isolation dms applies, to tell executor overhead from isolation cost
    isolated = {"network_mode": "none", "read_only": True, "init": True,
                "tmpfs": {"/tmp": "rw,nosuid,nodev,size=64m"},
                "security_opt": ["no-new-privileges"]}
    iso_s: list[float] = []

    def sdk_once(**kw: Any) -> float:
        name = f"bench-sdk-{uuid.uuid4().hex[:10]}"
        t0 = time.perf_counter()
        out = client.containers.run(image, cmd, name=name, **kw)
        elapsed = time.perf_counter() - t0
        client.api.remove_container(name, force=True)
        assert out == b"hello\n", out
        return elapsed

    async def main() -> None:
        for i in range(runs + 2):          # two warm-up rounds, not counted
            d = await dms_once()
            s = await trio.to_thread.run_sync(sdk_once)
            iso = await trio.to_thread.run_sync(lambda: sdk_once(**isolated))
            if i >= 2:
                dms_s.append(d)
                sdk_s.append(s)
                iso_s.append(iso)

    try:
        trio.run(main)
    finally:
        ex.close()
        client.close()
    dms_ms, sdk_ms, iso_ms = _ms(dms_s), _ms(sdk_s), _ms(iso_s)
    return {"docker_hello_ms": dms_ms, "docker_sdk_hello_ms": sdk_ms,
            "docker_ratio": round(dms_ms / sdk_ms, 3), "docker_runs": runs,
            "docker_sdk_isolated_hello_ms": iso_ms,
            "docker_ratio_isolated": round(dms_ms / iso_ms, 3)}


def bench_microvm(runs: int) -> dict[str, Any]:
    """QEMU microvm (or Firecracker where installed) booting the dms test guest:
    start() + wait() + logs() of ``echo hello``; at most 5 runs (TCG boots take seconds)."""
    import tempfile
    from pathlib import Path

    from dms.executor.contract import WorkloadSpec
    from dms.executor.microvm import MicroVMExecutor, MicroVMSettings
    from dms.testing.guest import build_guest

    runs = min(runs, 5)
    guest = build_guest()
    with tempfile.TemporaryDirectory() as tmp:
        ex = MicroVMExecutor(MicroVMSettings.model_validate(
            {"state_dir": Path(tmp), "kernel": guest.kernel, "initrd": guest.initrd}))
        backend = ex.backend()
        label = (backend.name if backend.name == "firecracker"
                 else f"{backend.name}-{backend.accel()}")

        async def once() -> float:
            spec = WorkloadSpec(id=f"bench-{uuid.uuid4().hex[:10]}", executor="microvm",
                                cmd=("echo", "hello"))
            elapsed, status, lines = await _timed_hello(ex, spec)
            assert status.ok and b"hello" in lines, (status, lines)
            return elapsed

        samples = _sample(once, runs, warmup=1)  # one warm-up boot, not counted
    return {"microvm_hello_ms": _ms(samples), "microvm_backend": label,
            "microvm_hello_max_ms": round(max(samples) * 1000, 1), "microvm_runs": runs}


def bench_wasm(runs: int) -> dict[str, Any]:
    """wasmtime in process: start() + wait() + logs() of a WAT hello module (compiled
    per workload, as the executor does)."""
    import tempfile
    from pathlib import Path

    from dms.executor.contract import WorkloadSpec
    from dms.executor.wasm import WasmExecutor, WasmSettings
    from dms.executor.wasm.examples import hello_wat

    with tempfile.TemporaryDirectory() as tmp:
        module = Path(tmp) / "hello.wat"
        module.write_text(hello_wat("hello\n"))
        ex = WasmExecutor(WasmSettings.model_validate({"state_dir": Path(tmp) / "state"}))

        async def once() -> float:
            spec = WorkloadSpec(id=f"bench-{uuid.uuid4().hex[:10]}", executor="wasm",
                                module=module)
            elapsed, status, lines = await _timed_hello(ex, spec)
            assert status.ok and lines == [b"hello"], (status, lines)
            return elapsed

        samples = _sample(once, runs, warmup=2)  # two warm-up rounds, not counted
    return {"wasm_hello_ms": _ms(samples), "wasm_runs": runs}


BENCHES: dict[str, Bench] = {
    "docker": bench_docker,
    "microvm": bench_microvm,
    "wasm": bench_wasm,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="measured runs per executor")
    parser.add_argument("--only", default="", help="comma-separated executors to run")
    args = parser.parse_args(argv)
    wanted = [n for n in args.only.split(",") if n] or list(BENCHES)
    result: dict[str, Any] = {}
    for name in wanted:
        if name not in BENCHES:
            parser.error(f"unknown executor {name!r}; known: {', '.join(BENCHES)}")
        try:
            result.update(BENCHES[name](args.runs))
        except Exception as exc:  # one broken executor must not hide the others' figures
            result[f"{name}_error"] = f"{type(exc).__name__}: {exc}"
    print(json.dumps(result, sort_keys=True))  # one line: the last line is the result
    return 0 if not any(k.endswith("_error") for k in result) else 1


if __name__ == "__main__":
    sys.exit(main())
