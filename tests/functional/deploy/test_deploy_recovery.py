"""Recovery and persistence: a provider dying after commit, a restart of the orchestrator."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from dms.testing.cluster import (
    messages,
    onboard,
    start_cluster,
    status,
    trust_all,
    wait_deployment,
    wait_events,
    wait_peers,
)
from dms.testing.daemon import Daemon, start_daemon
from dms.testing.images import BUSYBOX_IMAGE

pytestmark = [pytest.mark.functional, pytest.mark.docker, pytest.mark.slow]

TWO_ON_ONE = f"""version: V1
allocations:
  first:
    type: task
    executor: docker
    resources: {{cpu: {{cores: 0.25}}, ram: {{size: 32MiB}}, disk: {{size: 32MiB}}}}
    execution: {{type: docker, image: "{BUSYBOX_IMAGE}", cmd: ["sh", "-c", "echo one"]}}
  second:
    type: task
    executor: docker
    resources: {{cpu: {{cores: 0.25}}, ram: {{size: 32MiB}}, disk: {{size: 32MiB}}}}
    execution: {{type: docker, image: "{BUSYBOX_IMAGE}", cmd: ["sh", "-c", "echo two"]}}
nodes:
  box:
    allocations: [first, second]
"""


def test_provider_dying_after_commit_is_replaced(tmp_path: Path, docker_env: dict[str, str]) -> None:
    """Bob, the only provider at first, commits and then crashes; the queued deployment
    is reverted and lands on Carol as soon as she offers resources."""
    c = start_cluster(tmp_path, 2, env=docker_env)  # Alice, and Carol (not onboarded yet)
    try:
        bob = start_daemon(tmp_path / "bob", env={**docker_env, "DMS_TEST_FAULT": "exit-after-commit"},
                           args=["--set", "onboarding.benchmark_budget_s=1",
                                 "--set", f'network.bootstrap=["{c.info[0]["addrs"][0]}"]'])
        c.nodes.append(bob)
        c.info.append(status(bob))
        trust_all(c.nodes, [i["did"] for i in c.info])
        onboard(bob)
        wait_peers([c[0]], 2)
        f = tmp_path / "two.yaml"
        f.write_text(TWO_ON_ONE)
        r = c[0].cli("deploy", "-f", str(f), "--queue", "--timeout", "120s", "--no-wait", "--json")
        assert r.returncode == 0, r.stderr
        eid = json.loads(r.stdout)["id"]
        assert bob.proc.wait(60) == 70  # Bob committed, then really died
        onboard(c[1])
        st = wait_deployment(c[0], eid, lambda st: st["status"] in ("Completed", "Failed"), 90)
        assert st["status"] == "Completed", st
        assert st["nodes"]["box"] == c.info[1]["peer_id"]  # placed on Carol
        msgs = messages(st)
        assert any("allocate of box failed" in m and "reverting" in m for m in msgs), msgs
        # two allocations on one node, both with their output
        logs = json.loads(c[0].cli("deployment", "logs", eid, "--json").stdout)
        assert logs["first"]["stdout"].strip() == "one"
        assert logs["second"]["stdout"].strip() == "two"
    finally:
        c.stop()


def test_history_and_logs_survive_an_orchestrator_restart(tmp_path: Path,
                                                          docker_env: dict[str, str]) -> None:
    c = start_cluster(tmp_path, 2, env=docker_env, onboard_nodes=(1,))
    try:
        f = tmp_path / "two.yaml"
        f.write_text(TWO_ON_ONE)
        r = c[0].cli("deploy", "-f", str(f), "--json", timeout=120)
        assert r.returncode == 0, r.stderr
        eid = json.loads(r.stdout)["id"]
        alice = c[0]
        assert alice.stop() == 0
        c.nodes[0] = start_daemon(alice.home, env=docker_env, args=["--set", "network.mdns=false",
                                  "--set", 'network.listen_addrs=["/ip4/127.0.0.1/tcp/0"]'])
        alice = c.nodes[0]
        lst = json.loads(alice.cli("deployment", "list", "--json").stdout)
        assert [d["id"] for d in lst["deployments"]] == [eid]
        st = json.loads(alice.cli("deployment", "status", eid[:6], "--json").stdout)
        assert st["status"] == "Completed"
        assert [e["status"] for e in st["events"]][-1] == "Completed"
        logs = json.loads(alice.cli("deployment", "logs", eid, "--json").stdout)
        assert logs["first"]["stdout"].strip() == "one" and logs["second"]["stdout"].strip() == "two"
        man = json.loads(alice.cli("deployment", "manifest", eid).stdout)
        assert man["nodes"]["box"]["peer_id"] == c.info[1]["peer_id"]
    finally:
        c.stop()


def test_queue_waits_for_capacity(tmp_path: Path, docker_env: dict[str, str]) -> None:
    c = start_cluster(tmp_path, 2, env=docker_env, onboard_nodes=(1,))
    try:
        alice = c[0]
        busy = TWO_ON_ONE.replace("type: task", "type: service").replace(
            '"echo one"', '"echo one; sleep 300"').replace('"echo two"', '"echo two; sleep 300"')
        busy = busy.replace("cores: 0.25", "cores: 0.5")  # takes Bob's whole core
        (tmp_path / "busy.yaml").write_text(busy)
        r = alice.cli("deploy", "-f", str(tmp_path / "busy.yaml"), "--json", timeout=120)
        assert r.returncode == 0, r.stderr
        svc = json.loads(r.stdout)["id"]
        (tmp_path / "two.yaml").write_text(TWO_ON_ONE)
        # without --queue: refused at once, and the reason says why
        r = alice.cli("deploy", "-f", str(tmp_path / "two.yaml"), "--json", timeout=120)
        assert r.returncode == 1 and "available" in json.loads(r.stdout)["error"]["message"]
        # with --queue: it waits, and runs once the service is shut down
        r = alice.cli("deploy", "-f", str(tmp_path / "two.yaml"), "--queue", "--timeout", "90s",
                      "--no-wait", "--json", timeout=60)
        assert r.returncode == 0, r.stderr
        queued = json.loads(r.stdout)["id"]
        st = json.loads(alice.cli("deployment", "status", queued, "--json").stdout)
        assert st["status"] in ("Generating", "Preparing")
        assert alice.cli("deployment", "shutdown", svc, timeout=90).returncode == 0
        st = wait_deployment(alice, queued, lambda st: st["status"] in ("Completed", "Failed"))
        assert st["status"] == "Completed", st
        waits = [e for e in st["events"] if e["msg"].startswith("waiting for capacity")]
        assert len(waits) == 1  # said once, not once per retry
    finally:
        c.stop()


def test_refused_status_checks_do_not_count_as_a_lost_provider(tmp_path: Path,
                                                               docker_env: dict[str, str]) -> None:
    """Bob lets Alice deploy (/dms/deployment) but not inspect allocations: her node says
    it cannot supervise, and the service keeps running instead of being declared lost."""
    from dms.crypto.keystore import Keystore
    from dms.testing.daemon import TEST_PASSPHRASE
    from dms.ucan import CapabilityContext

    c = start_cluster(tmp_path, 2, env=docker_env, onboard_nodes=(1,),
                      extra=["--set", "deployment.heartbeat_s=0.5"])
    try:
        alice_did, bob = c.info[0]["did"], c[1]
        ctx = CapabilityContext.load(bob.home / "cap" / "dms.json",
                                     Keystore(bob.home / "keys").load("dms", TEST_PASSPHRASE))
        assert ctx.remove_anchor("root", alice_did)
        token = ctx.grant(alice_did, ["/dms/deployment"], ["/nunet/deployment"], expiry_s=3600)
        a = c[0]
        assert a.cli("cap", "anchor", "-c", "dms", "--provide", token).returncode == 0
        svc = TWO_ON_ONE.replace("type: task", "type: service").replace(
            '"echo one"', '"echo one; sleep 300"').replace('"echo two"', '"echo two; sleep 300"')
        (tmp_path / "svc.yaml").write_text(svc)
        r = a.cli("deploy", "-f", str(tmp_path / "svc.yaml"), "--json", timeout=120)
        assert r.returncode == 0, r.stderr + r.stdout
        eid = json.loads(r.stdout)["id"]
        msgs = messages(wait_events(a, eid, ["cannot supervise node box"]))
        assert any(m.startswith("cannot supervise node box") for m in msgs), msgs
        time.sleep(2.5)  # several heartbeats later: still running, nothing declared lost
        st = json.loads(a.cli("deployment", "status", eid, "--json").stdout)
        assert st["status"] == "Running", st
        assert all(x["status"] == "running" for x in st["allocations"].values()), st
    finally:
        c.stop()
        # Alice may not stop them (no /dms/allocation grant) and Bob keeps his workloads
        # across a stop by design: remove them here
        import docker

        client = docker.DockerClient(base_url=docker_env["DOCKER_HOST"])
        for x in client.containers.list(all=True, filters={"label": "dms.node=box"}):
            if x.labels.get("dms.owner") == c.info[1]["did"].rsplit(":", 1)[-1][-16:]:
                x.remove(force=True)


def test_untrusted_deployer_is_told_why(tmp_path: Path, docker_env: dict[str, str]) -> None:
    from dms.crypto.keystore import Keystore
    from dms.testing.daemon import TEST_PASSPHRASE
    from dms.ucan import CapabilityContext

    c = start_cluster(tmp_path, 2, env=docker_env, onboard_nodes=(1,))
    try:
        bob = c[1]
        ctx = CapabilityContext.load(bob.home / "cap" / "dms.json",
                                     Keystore(bob.home / "keys").load("dms", TEST_PASSPHRASE))
        assert ctx.remove_anchor("root", c.info[0]["did"])
        (tmp_path / "two.yaml").write_text(TWO_ON_ONE)
        r = c[0].cli("deploy", "-f", str(tmp_path / "two.yaml"), "--json", timeout=120)
        assert r.returncode == 1
        msg = json.loads(r.stdout)["error"]["message"]
        assert "refused the bid request" in msg and "/dms/deployment/request" in msg, msg
    finally:
        c.stop()


class ServicesOnBob:
    """Alice deploys ``first`` (a service) and ``second`` (a long task) onto Bob and waits
    until both run; Bob can then crash and come back (on another port: he reaches Alice
    at the address he kept)."""

    def __init__(self, tmp_path: Path, docker_env: dict[str, str], *settings: str) -> None:
        import docker

        ens = TWO_ON_ONE.replace("type: task", "type: service", 1).replace(
            '"echo one"', '"echo one; exec sleep 300"').replace(
            '"echo two"', '"echo two; exec sleep 300"')
        (tmp_path / "svc.yaml").write_text(ens)
        self.env = docker_env
        self.docker = docker.DockerClient(base_url=docker_env["DOCKER_HOST"])
        self.c = start_cluster(tmp_path, 2, env=docker_env, onboard_nodes=(1,),
                               extra=[x for kv in settings for x in ("--set", kv)])
        try:
            r = self.c[0].cli("deploy", "-f", str(tmp_path / "svc.yaml"), "--json",
                              "--no-wait", timeout=120)
            assert r.returncode == 0, r.stderr
            self.eid = json.loads(r.stdout)["id"]
            wait_events(self.c[0], self.eid,
                        ["allocation first running", "allocation second running"])
        except BaseException:
            self.c.stop()
            raise

    @property
    def alice(self) -> Daemon:
        return self.c[0]

    def running(self) -> dict[str, str]:
        """Name -> id of the deployment's running containers."""
        return {x.name: x.id for x in self.docker.containers.list(
            filters={"label": f"dms.ensemble={self.eid}"})}

    def until_none_run(self) -> dict[str, str]:
        deadline = time.monotonic() + 10
        while self.running() and time.monotonic() < deadline:
            time.sleep(0.25)
        return self.running()

    def crash_bob(self) -> None:
        import signal

        self.c[1].stop(signal.SIGKILL)  # nothing is cleaned up on the way out

    def start_bob(self) -> None:
        self.c.nodes[1] = start_daemon(self.c[1].home, env=self.env)

    def bob_holds_nothing(self) -> None:
        allocs = json.loads(self.c[1].cli("resources", "allocated", "--json").stdout)
        assert allocs == {"allocated": {}, "committed": {}}, allocs


def test_restarted_provider_re_attaches_its_workloads(
        tmp_path: Path, docker_env: dict[str, str]) -> None:
    """Bob crashes and comes back: he follows the containers that kept running (no
    restart, output intact), and Alice can still stop them."""
    net = ServicesOnBob(tmp_path, docker_env, "deployment.max_misses=10")
    try:
        before = net.running()
        assert len(before) == 2, before
        net.crash_bob()
        # and a container of his that no record names (as if he crashed between starting
        # a new run of `first` and writing down its id): he removes it when he is back;
        # a container of another node on the same engine he leaves alone
        owner = net.c.info[1]["did"].rsplit(":", 1)[-1][-16:]

        def managed(workload: str) -> Any:
            return net.docker.containers.create(BUSYBOX_IMAGE, ["sleep", "300"], labels={
                "dms.managed": "true", "dms.executor": "docker", "dms.workload": workload,
                "dms.owner": owner})

        def exists(container: Any) -> bool:
            return container.id in [x.id for x in net.docker.containers.list(all=True)]

        orphan, foreign = managed(f"{net.eid}_first-r7"), managed("someone-else")
        net.start_bob()
        st = wait_events(net.alice, net.eid,
                         ["first running (re-attached", "second running (re-attached"])
        deadline = time.monotonic() + 10
        while exists(orphan) and time.monotonic() < deadline:
            time.sleep(0.25)
        assert not exists(orphan) and exists(foreign)
        foreign.remove(force=True)
        msgs = messages(st)
        assert sum("re-attached after the provider restarted" in m for m in msgs) == 2, msgs
        assert net.running() == before  # the same containers, never restarted
        assert st["status"] == "Running", st
        logs = json.loads(net.alice.cli("deployment", "logs", net.eid, "--json").stdout)
        assert logs["first"]["stdout"] == "one\n" and logs["second"]["stdout"] == "two\n", logs
        assert net.alice.cli("deployment", "shutdown", net.eid, timeout=90).returncode == 0
        assert net.running() == {}
        net.bob_holds_nothing()
    finally:
        net.c.stop()


def test_restarted_provider_restarts_a_vanished_service_and_reports_a_vanished_task(
        tmp_path: Path, docker_env: dict[str, str]) -> None:
    """While Bob is down, both containers are removed by hand: the service is started
    again, the task is reported lost (it cannot be re-run halfway)."""
    net = ServicesOnBob(tmp_path, docker_env, "deployment.max_misses=10")
    try:
        net.crash_bob()
        for x in net.docker.containers.list(all=True,
                                            filters={"label": f"dms.ensemble={net.eid}"}):
            x.remove(force=True)
        net.start_bob()
        st = wait_events(net.alice, net.eid, ["second failed (lost: its workload did not survive",
                                              "allocation first running"])
        msgs = messages(st)
        assert any(m.startswith("allocation second failed (lost: its workload did not survive")
                   for m in msgs), msgs
        assert msgs.count("allocation first running") == 2, msgs  # started again
        assert len(net.running()) == 1, net.running()
        assert net.alice.cli("deployment", "shutdown", net.eid, timeout=90).returncode == 0
    finally:
        net.c.stop()


def test_a_provider_back_without_its_executor_reports_its_allocations_lost(
        tmp_path: Path, docker_env: dict[str, str]) -> None:
    """Bob comes back without Docker (another DOCKER_HOST): he cannot follow the
    containers, says so, and does not start them again somewhere they cannot run."""
    net = ServicesOnBob(tmp_path, docker_env, "deployment.max_misses=10")
    try:
        net.crash_bob()
        net.c.nodes[1] = start_daemon(net.c[1].home, env={"DOCKER_HOST": "unix:///nonexistent.sock"})
        st = wait_events(net.alice, net.eid, ["first failed (lost: executor docker is not available",
                                              "second failed (lost: executor docker"])
        msgs = messages(st)
        assert not any(m == "allocation first starting" for m in msgs[-4:]), msgs
        assert st["status"] == "Failed", st
    finally:
        net.c.stop()
        for x in net.docker.containers.list(all=True,
                                            filters={"label": f"dms.ensemble={net.eid}"}):
            x.remove(force=True)


def test_a_workload_given_up_for_lost_is_stopped_when_its_provider_returns(
        tmp_path: Path, docker_env: dict[str, str]) -> None:
    """Alice declares Bob's allocations lost while he is down; when he comes back and
    re-attaches them, she has them stopped: nothing runs on that nobody follows."""
    net = ServicesOnBob(tmp_path, docker_env, "deployment.heartbeat_s=0.5",
                        "deployment.max_misses=2")
    try:
        net.crash_bob()
        st = wait_events(net.alice, net.eid, ["allocation(s) failed"])
        assert st["status"] == "Failed", st
        assert len(net.running()) == 2  # Bob is away: nobody can stop them yet
        net.start_bob()
        st = wait_events(net.alice, net.eid,
                         ["stopped allocation first", "stopped allocation second"])
        msgs = messages(st)
        assert any(m.startswith("stopped allocation first: it was reported running")
                   for m in msgs), msgs
        assert net.until_none_run() == {}
        net.bob_holds_nothing()
    finally:
        net.c.stop()


def test_wasm_service_is_started_again_after_its_provider_crashed(tmp_path: Path) -> None:
    """WebAssembly runs inside the provider process and dies with it: after the restart
    the service runs again (a task would be reported lost), never "re-attached"."""
    import signal

    from dms.executor.wasm.examples import sleep_wat

    mod = tmp_path / "svc.wat"
    mod.write_text(sleep_wat(300_000, before="serving\n"))
    (tmp_path / "w.yaml").write_text(f"""version: V1
allocations:
  svc:
    type: service
    executor: wasm
    resources: {{cpu: {{cores: 0.25}}, ram: {{size: 64MiB}}, disk: {{size: 16MiB}}}}
    execution: {{type: wasm, module: "{mod}"}}
nodes:
  box: {{allocations: [svc]}}
""")
    c = start_cluster(tmp_path / "c", 2, onboard_nodes=(1,),
                      extra=["--set", "deployment.max_misses=10"])
    try:
        r = c[0].cli("deploy", "-f", str(tmp_path / "w.yaml"), "--json", "--no-wait", timeout=120)
        assert r.returncode == 0, r.stderr
        eid = json.loads(r.stdout)["id"]
        wait_events(c[0], eid, ["allocation svc running"])
        bob = c[1]
        bob.stop(signal.SIGKILL)
        c.nodes[1] = start_daemon(bob.home)
        st = wait_deployment(c[0], eid, lambda st: messages(st).count("allocation svc running") == 2)
        msgs = messages(st)
        assert msgs.count("allocation svc running") == 2, msgs
        assert not any("re-attached" in m for m in msgs), msgs
        assert st["status"] == "Running", st
        assert c[0].cli("deployment", "shutdown", eid, timeout=90).returncode == 0
    finally:
        c.stop()


def test_a_lost_provider_s_service_moves_to_another_one(
        tmp_path: Path, docker_env: dict[str, str]) -> None:
    """Bob and Carol offer resources; the service lands on one of them, which dies. Alice
    places it on the other; when the dead one comes back (its container outlived it),
    Alice has its copy stopped there: one copy runs in the end."""
    import docker

    c = start_cluster(tmp_path, 3, env=docker_env, onboard_nodes=(1, 2),
                      extra=["--set", "deployment.heartbeat_s=0.5",
                             "--set", "deployment.max_misses=2"])
    client = docker.DockerClient(base_url=docker_env["DOCKER_HOST"])
    try:
        ens = TWO_ON_ONE.replace("type: task", "type: service").replace(
            '"echo one"', '"echo one; exec sleep 300"').replace(
            '"echo two"', '"echo two; exec sleep 300"')
        (tmp_path / "svc.yaml").write_text(ens)
        r = c[0].cli("deploy", "-f", str(tmp_path / "svc.yaml"), "--json", timeout=120)
        assert r.returncode == 0, r.stderr
        out = json.loads(r.stdout)
        eid, first = out["id"], out["nodes"]["box"]
        dead = next(i for i in (1, 2) if c.info[i]["peer_id"] == first)
        other = 3 - dead

        def running() -> list[str]:
            return sorted(x.labels["dms.owner"] for x in client.containers.list(
                filters={"label": f"dms.ensemble={eid}"}))

        c[dead].stop(signal.SIGKILL)
        st = wait_events(c[0], eid, ["node box moved to"])
        st = wait_deployment(c[0], eid, lambda st: all(
            a["status"] == "running" for a in st["allocations"].values()))
        assert st["nodes"]["box"] == c.info[other]["peer_id"], st
        assert st["status"] == "Running", st
        msgs = messages(st)
        assert any(m.startswith("node box: provider") and "placing it elsewhere" in m
                   for m in msgs), msgs
        logs = json.loads(c[0].cli("deployment", "logs", eid, "--json").stdout)
        assert logs["first"]["stdout"] == "one\n", logs
        assert len(running()) == 4  # the dead provider's pair outlived it
        c.nodes[dead] = start_daemon(c[dead].home, env=docker_env)
        st = wait_events(c[0], eid, ["on a provider this deployment moved away from"])
        deadline = time.monotonic() + 20
        while len(running()) != 2 and time.monotonic() < deadline:
            time.sleep(0.25)
        owners = set(running())
        assert len(running()) == 2 and len(owners) == 1, running()
        assert c[0].cli("deployment", "shutdown", eid, timeout=90).returncode == 0
        assert running() == []
    finally:
        c.stop()
