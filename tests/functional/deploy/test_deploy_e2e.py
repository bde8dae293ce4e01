"""Alice deploys onto Bob and Carol over real daemons, a real dockerd and real libp2p."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from dms.testing.cluster import Cluster, messages, wait_deployment, wait_events
from dms.testing.images import BUSYBOX_IMAGE

pytestmark = [pytest.mark.functional, pytest.mark.docker, pytest.mark.slow]


def hello(name: str, msg: str, *, node: str = "n1", cores: float = 0.5, extra_nodes: str = "",
          peer: str | None = None, atype: str = "task", cmd: str | None = None) -> str:
    pin = f"\n    peer: {peer}" if peer else ""
    command = cmd or f'["sh", "-c", "echo {msg}"]'
    return f"""version: V1
allocations:
  {name}:
    type: {atype}
    executor: docker
    resources:
      cpu: {{cores: {cores}}}
      ram: {{size: 64MiB}}
      disk: {{size: 64MiB}}
    execution:
      type: docker
      image: {BUSYBOX_IMAGE}
      cmd: {command}
nodes:
  {node}:
    allocations: [{name}]{pin}
{extra_nodes}"""


def write(tmp: Path, name: str, text: str) -> Path:
    p = tmp / name
    p.write_text(text)
    return p


def deploy(alice, path: Path, *extra: str):
    return alice.cli("deploy", "-f", str(path), "--json", *extra, timeout=120)


def test_docker_hello_output_comes_back(net: Cluster, tmp_path: Path) -> None:
    alice = net[0]
    r = deploy(alice, write(tmp_path, "h.yaml", hello("hello", "hi-from-provider")))
    assert r.returncode == 0, r.stderr + r.stdout
    out = json.loads(r.stdout)
    assert out["status"] == "Completed"
    assert out["logs"]["hello"]["stdout"].strip() == "hi-from-provider"
    assert out["nodes"]["n1"] in {net.info[1]["peer_id"], net.info[2]["peer_id"]}
    # history is listed, and the provider released everything
    lst = json.loads(alice.cli("deployment", "list", "--json").stdout)
    assert out["id"] in [d["id"] for d in lst["deployments"]]
    for i in (1, 2):
        alloc = json.loads(net[i].cli("resources", "allocated", "--json").stdout)
        assert alloc["allocated"] == {} and alloc["committed"] == {}


def test_pinned_to_a_peer(net: Cluster, tmp_path: Path) -> None:
    carol = net.info[2]["peer_id"]
    r = deploy(net[0], write(tmp_path, "p.yaml", hello("pinned", "on-carol", peer=carol)))
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["nodes"]["n1"] == carol
    assert out["logs"]["pinned"]["stdout"].strip() == "on-carol"


def test_two_providers_two_nodes(net: Cluster, tmp_path: Path) -> None:
    two = hello("a", "from-a", node="na") + """  nb:
    allocations: [b]
"""
    two = two.replace("nodes:\n", f"""  b:
    type: task
    executor: docker
    resources:
      cpu: {{cores: 0.5}}
      ram: {{size: 64MiB}}
      disk: {{size: 64MiB}}
    execution:
      type: docker
      image: {BUSYBOX_IMAGE}
      cmd: ["sh", "-c", "echo from-b"]
nodes:
""")
    r = deploy(net[0], write(tmp_path, "two.yaml", two))
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert set(out["nodes"].values()) == {net.info[1]["peer_id"], net.info[2]["peer_id"]}
    assert out["logs"]["a"]["stdout"].strip() == "from-a"
    assert out["logs"]["b"]["stdout"].strip() == "from-b"


def test_insufficient_resources_names_reason_and_leaves_nothing(net: Cluster, tmp_path: Path) -> None:
    r = deploy(net[0], write(tmp_path, "big.yaml", hello("big", "x", cores=8)))
    assert r.returncode == 1
    out = json.loads(r.stdout)
    assert out["status"] == "Failed"
    msg = out["error"]["message"]
    assert "needs 8 cores, 1 available" in msg and "n1" in msg
    for i in (1, 2):
        alloc = json.loads(net[i].cli("resources", "allocated", "--json").stdout)
        assert alloc["committed"] == {} and alloc["allocated"] == {}


def test_failing_task_reports_exit_code(net: Cluster, tmp_path: Path) -> None:
    r = deploy(net[0], write(tmp_path, "f.yaml", hello("bad", "x", cmd='["sh", "-c", "echo oops >&2; exit 3"]')))
    assert r.returncode == 1
    out = json.loads(r.stdout)
    assert out["status"] == "Failed"
    assert out["allocations"]["bad"]["exit_code"] == 3
    assert "oops" in out["logs"]["bad"]["stderr"]


def test_service_shut_down_on_request(net: Cluster, tmp_path: Path) -> None:
    alice = net[0]
    svc = hello("web", "x", atype="service", cmd='["sh", "-c", "echo up; sleep 300"]')
    r = deploy(alice, write(tmp_path, "s.yaml", svc))
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["status"] == "Running" and out["allocations"]["web"]["status"] == "running"
    # live logs of a running service come from the provider
    deadline = time.monotonic() + 30
    while True:
        live = json.loads(alice.cli("deployment", "logs", out["id"], "--json").stdout)
        if "up" in live["web"].get("stdout", "") or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    assert live["web"]["stdout"].strip() == "up"
    r = alice.cli("deployment", "shutdown", out["id"], "--json", timeout=90)
    assert r.returncode == 0, r.stderr
    st = json.loads(alice.cli("deployment", "status", out["id"], "--json").stdout)
    assert st["status"] == "Stopped"
    assert st["allocations"]["web"]["status"] == "stopped"


def test_wasm_hello_output_and_results_come_back(net: Cluster, tmp_path: Path) -> None:
    from dms.executor.wasm.examples import hello_wat, write_file_wat

    # the module lives on Alice's machine only: it travels with the deployment
    mod = tmp_path / "hello.wat"
    mod.write_text(hello_wat(stdout="hello from wasm\n"))
    out_mod = tmp_path / "writer.wat"
    out_mod.write_text(write_file_wat(3, "answer.txt", "42"))
    ens = f"""version: V1
allocations:
  greet:
    type: task
    executor: wasm
    resources: {{cpu: {{cores: 0.25}}, ram: {{size: 64MiB}}, disk: {{size: 16MiB}}}}
    execution: {{type: wasm, module: "{mod}"}}
  writer:
    type: task
    executor: wasm
    resources: {{cpu: {{cores: 0.25}}, ram: {{size: 64MiB}}, disk: {{size: 16MiB}}}}
    execution: {{type: wasm, module: "{out_mod}"}}
nodes:
  n1:
    allocations: [greet, writer]
"""
    r = deploy(net[0], write(tmp_path, "w.yaml", ens))
    assert r.returncode == 0, r.stderr + r.stdout
    out = json.loads(r.stdout)
    assert out["status"] == "Completed"
    assert out["logs"]["greet"]["stdout"] == "hello from wasm\n"
    dl = net[0].cli("deployment", "results", out["id"], "-o", str(tmp_path / "res"))
    assert dl.returncode == 0, dl.stderr
    assert (tmp_path / "res" / "writer" / "answer.txt").read_text() == "42"


def test_crashing_service_is_restarted_by_its_provider(net: Cluster, tmp_path: Path) -> None:
    alice = net[0]
    # crashes on its first run, keeps running on the next (its /results dir persists)
    cmd = ('["sh", "-c", "if [ -f /results/ran ]; then echo second; sleep 300; '
           'else touch /results/ran; echo first; exit 1; fi"]')
    r = deploy(alice, write(tmp_path, "crash.yaml", hello("flaky", "x", atype="service", cmd=cmd)))
    assert r.returncode == 0, r.stderr
    eid = json.loads(r.stdout)["id"]
    st = wait_deployment(alice, eid, lambda st: any("restarting" in m for m in messages(st))
                         and st["allocations"]["flaky"]["status"] == "running")
    msgs = messages(st)
    assert st["status"] == "Running" and st["allocations"]["flaky"]["status"] == "running", st
    assert any("flaky restarting (exited with code 1; restart 1 of 3" in m for m in msgs), msgs
    assert alice.cli("deployment", "shutdown", eid, timeout=90).returncode == 0
    logs = json.loads(alice.cli("deployment", "logs", eid, "--json").stdout)
    assert logs["flaky"]["stdout"] == "first\nsecond\n"


def test_unhealthy_service_is_restarted_healthy_one_is_left_alone(net: Cluster, tmp_path: Path) -> None:
    alice = net[0]
    ens = f"""version: V1
allocations:
  sick:
    type: service
    executor: docker
    resources: {{cpu: {{cores: 0.25}}, ram: {{size: 32MiB}}, disk: {{size: 32MiB}}}}
    execution: {{type: docker, image: "{BUSYBOX_IMAGE}", cmd: ["sleep", "300"]}}
    healthcheck: {{type: command, exec: ["test", "-f", "/tmp/ready"], interval: 1s}}
  fine:
    type: service
    executor: docker
    resources: {{cpu: {{cores: 0.25}}, ram: {{size: 32MiB}}, disk: {{size: 32MiB}}}}
    execution: {{type: docker, image: "{BUSYBOX_IMAGE}",
                 cmd: ["sh", "-c", "touch /tmp/ready; exec sleep 300"]}}
    healthcheck: {{type: command, exec: ["test", "-f", "/tmp/ready"], interval: 1s}}
nodes:
  n1:
    allocations: [sick, fine]
"""
    r = deploy(alice, write(tmp_path, "health.yaml", ens))
    assert r.returncode == 0, r.stderr
    eid = json.loads(r.stdout)["id"]
    msgs = messages(wait_events(alice, eid, ["sick restarting (unhealthy"]))
    assert any("sick restarting (unhealthy: 3 health checks failed" in m for m in msgs), msgs
    assert not any(m.startswith("allocation fine restarting") for m in msgs), msgs
    assert alice.cli("deployment", "shutdown", eid, timeout=90).returncode == 0


def test_all_for_one_supervisor_restarts_the_siblings(net: Cluster, tmp_path: Path) -> None:
    alice = net[0]
    crash_once = ('["sh", "-c", "if [ -f /results/ran ]; then exec sleep 300; '
                  'else touch /results/ran; exit 1; fi"]')
    ens = f"""version: V1
allocations:
  db:
    type: service
    executor: docker
    resources: {{cpu: {{cores: 0.25}}, ram: {{size: 32MiB}}, disk: {{size: 32MiB}}}}
    execution: {{type: docker, image: "{BUSYBOX_IMAGE}", cmd: {crash_once}}}
  api:
    type: service
    executor: docker
    resources: {{cpu: {{cores: 0.25}}, ram: {{size: 32MiB}}, disk: {{size: 32MiB}}}}
    execution: {{type: docker, image: "{BUSYBOX_IMAGE}", cmd: ["sh", "-c", "echo api up; exec sleep 300"]}}
nodes:
  n1:
    allocations: [db, api]
supervisor:
  strategy: AllForOne
  allocations: [db, api]
"""
    r = deploy(alice, write(tmp_path, "sup.yaml", ens), "--no-wait")
    assert r.returncode == 0, r.stderr
    eid = json.loads(r.stdout)["id"]
    want = "allocation api restarting (restarted by its supervisor (db failed))"
    st = wait_deployment(alice, eid, lambda st: want in messages(st) and all(
        a["status"] == "running" for a in st["allocations"].values()))
    msgs = messages(st)
    assert want in msgs, msgs
    assert all(a["status"] == "running" for a in st["allocations"].values()), st
    assert alice.cli("deployment", "shutdown", eid, timeout=90).returncode == 0
    logs = json.loads(alice.cli("deployment", "logs", eid, "--json").stdout)
    assert logs["api"]["stdout"] == "api up\napi up\n"  # it ran twice
