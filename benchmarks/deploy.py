"""Deployment latency on real daemons (loopback, the dedicated test dockerd).

- deploy_e2e_s: submit -> output back for a Docker hello task, Alice -> Bob, median of
  5, measured through the same signed API path the CLI uses (without CLI start-up).
- docker_bare_s: the same image and command run with the bare docker SDK on the same
  dockerd, median of 5 (the baseline measured in the same run).
- bid_round_10_s / bid_round_30_s: from "requesting bids" to "committing" in the
  deployment's own event log, with 10 and then 30 onboarded provider daemons
  connected to Alice; median of 3 each.

Prints one JSON object as its last line. Takes a few minutes (30 daemons start).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil

from dms.testing.cluster import node_args, onboard, start_cluster, status, trust_all
from dms.testing.daemon import TEST_PASSPHRASE, start_daemon
from dms.testing.dockerd import ensure_dockerd
from dms.testing.images import BUSYBOX_IMAGE, ensure_busybox_image

HELLO = f"""version: V1
allocations:
  hello:
    type: task
    executor: docker
    resources: {{cpu: {{cores: 0.1}}, ram: {{size: 16MiB}}, disk: {{size: 16MiB}}}}
    execution: {{type: docker, image: "{BUSYBOX_IMAGE}", cmd: ["echo", "hello"]}}
nodes:
  n1:
    allocations: [hello]
"""


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def deploy_once(caller) -> tuple[float, dict]:
    t0 = time.perf_counter()
    d = caller.call("/dms/node/deployment/new", {"ensemble": HELLO, "timeout": 60})
    since = 0.0
    while True:
        st = caller.call("/dms/node/deployment/status",
                         {"id": d["id"], "wait": 5.0, "since": since})
        since = st["updated"]
        if st["status"] in ("Completed", "Failed", "Stopped"):
            break
    logs = caller.call("/dms/node/deployment/logs", {"id": d["id"]})
    elapsed = time.perf_counter() - t0
    if st["status"] != "Completed" or logs["hello"]["stdout"].strip() != "hello":
        raise RuntimeError(f"deployment did not deliver its output: {st}")
    return elapsed, st


def bid_round(st: dict) -> float:
    t_req = next(e["t"] for e in st["events"] if e["msg"].startswith("requesting bids"))
    t_commit = next(e["t"] for e in st["events"] if e["msg"].startswith("committing"))
    return t_commit - t_req


def caller_for(home: Path):
    from dms.cli.calls import Caller

    return Caller(home)


def main() -> None:
    os.environ["DMS_PASSPHRASE"] = TEST_PASSPHRASE
    host = ensure_dockerd()
    ensure_busybox_image(host)
    env = {"DOCKER_HOST": host}
    import docker

    client = docker.DockerClient(base_url=host)
    bare = []
    for _ in range(5):
        t0 = time.perf_counter()
        out = client.containers.run(BUSYBOX_IMAGE, ["echo", "hello"], remove=True,
                                    network_mode="none")
        bare.append(time.perf_counter() - t0)
        assert out.strip() == b"hello"
    log(f"bare docker: {statistics.median(bare):.3f}s")

    result: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        c = start_cluster(base, 2, env=env, onboard_nodes=(1,), budget_s=0.5,
                          extra=["--set", "deployment.bid_window_s=5"])
        try:
            alice = caller_for(c[0].home)
            deploy_once(alice)  # warm up (image layers, first connections)
            e2e = []
            for _ in range(5):
                t, _ = deploy_once(alice)
                e2e.append(t)
                log(f"e2e: {t:.3f}s")
            result["deploy_e2e_s"] = round(statistics.median(e2e), 3)
            result["deploy_e2e_min_s"] = round(min(e2e), 3)
            # grow to 10, then 30 providers (Bob counts)
            boot = c.info[0]["addrs"][0]
            for target in (10, 30):
                need = target - (len(c.nodes) - 1)
                t0 = time.perf_counter()

                def start(i: int, need_base: int = len(c.nodes)) -> object:
                    return start_daemon(base / f"p{need_base + i}", env=env,
                                        args=node_args(["--set", "deployment.bid_window_s=5"],
                                                       bootstrap=boot, budget_s=0.3))
                with ThreadPoolExecutor(4) as pool:
                    new = list(pool.map(start, range(need)))
                c.nodes.extend(new)  # type: ignore[arg-type]
                c.info.extend(status(d) for d in new)  # type: ignore[arg-type]
                trust_all(c.nodes, [i["did"] for i in c.info])
                with ThreadPoolExecutor(4) as pool:
                    list(pool.map(lambda d: onboard(d, cpu="1", ram="256MiB", disk="256MiB"), new))
                log(f"{target} providers up and onboarded in {time.perf_counter() - t0:.1f}s")
                t1 = time.monotonic()
                while status(c[0])["peers"] < target and time.monotonic() - t1 < 60:
                    time.sleep(0.2)
                rounds = []
                for _ in range(3):
                    _, st = deploy_once(alice)
                    rounds.append(bid_round(st))
                    log(f"bid round with {target}: {rounds[-1]:.3f}s")
                result[f"bid_round_{target}_s"] = round(statistics.median(rounds), 3)
            rss = [psutil.Process(d.proc.pid).memory_info().rss for d in c.nodes[1:]]
            result["idle_rss_mib_per_node"] = round(statistics.median(rss) / 2**20, 1)
        finally:
            c.stop()
    result["docker_bare_s"] = round(statistics.median(bare), 3)
    result["e2e_over_bare_ratio"] = round(result["deploy_e2e_s"] / result["docker_bare_s"], 2)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
