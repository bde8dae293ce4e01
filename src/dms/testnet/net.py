"""The Testnet: N dms daemons, each in its own network namespace (or on loopback).

    Testnet(dir).up(3, latency="30ms")     make namespaces, start daemons, wait healthy
    Testnet.open().status()                 from another process: who runs, who answers
    .exec("node1", ["status"])              the dms CLI against node1 (in its namespace)
    .down()                                 remove everything (found by the testnet id)
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from dms.errors import DMSError, NotFound, ValidationError
from dms.testnet import launch, netns, plan, trust
from dms.testnet import state as st
from dms.testnet._http import wait_http
from dms.testnet.state import NodeInfo, TestnetState
from dms.testnet.units import parse_duration_ms, parse_percent

Progress = Callable[[str], None]
ONBOARD_ARGS = ["onboard", "--cpu", "1", "--ram", "1GiB", "--disk", "2GiB"]


class TestnetError(DMSError):
    code = "testnet"
    __test__ = False


@dataclass
class NodeStatus:
    node: NodeInfo
    running: bool
    healthy: bool


def _free_port() -> int:
    from dms.testing.daemon import free_port

    return free_port()


def _tail(path: str, lines: int = 15) -> str:
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


class Testnet:
    __test__ = False  # not a pytest class

    def __init__(self, tdir: str | Path | None = None) -> None:
        self._dir = Path(tdir) if tdir else None
        self._state: TestnetState | None = None
        self._procs: dict[str, subprocess.Popen[bytes]] = {}
        self._spawned: list[subprocess.Popen[bytes]] = []
        self._env: dict[str, str] = {}  # extra daemon environment (up(env=...))

    @classmethod
    def open(cls, tdir: str | Path | None = None) -> Testnet:
        """The testnet at ``tdir`` (default: $DMS_TESTNET_DIR or the current one)."""
        tn = cls(st.resolve_dir(tdir))
        tn._state = st.load(tn.dir)
        return tn

    @property
    def dir(self) -> Path:
        if self._dir is None:
            raise NotFound("this testnet is not up", hint="call up() first")
        return self._dir

    @property
    def state(self) -> TestnetState:
        if self._state is None:
            self._state = st.load(self.dir)
        return self._state

    @property
    def nodes(self) -> list[NodeInfo]:
        return self.state.nodes

    def node(self, ref: str | int) -> NodeInfo:
        return self.state.node(ref)

    # ------------------------------------------------------------------ up
    def up(self, n: int, latency: str | float = "0ms", jitter: str | float = "0ms",
           loss: str | float = "0%", loopback: bool = False,
           base_dir: str | Path | None = None, *, daemons: bool = True,
           progress: Progress | None = None, timeout_s: float = 60.0,
           shaper: str = "auto", trust: bool = True, onboard: bool = False,
           settings: dict[str, Any] | None = None,
           env: dict[str, str] | None = None) -> list[NodeInfo]:
        """Make the network and start ``n`` daemons; returns them once all are healthy.

        ``latency`` is the one-way delay each node adds to what it sends (round trip
        between two nodes = 2 x latency). ``daemons=False`` makes only the network
        (namespaces and shaping), for tests that run their own processes via
        :meth:`spawn`. ``shaper``: ``auto`` (netem when the kernel has it, else the
        userspace delay switch), ``netem`` (a bridge + tc netem) or ``switch``.
        ``trust``: an organization root every node trusts, with a grant of ``/`` for each
        node's ``dms`` and ``user`` keys (:mod:`dms.testnet.trust`). ``onboard``: run
        ``dms onboard`` (:data:`ONBOARD_ARGS`) on every node. ``settings``: extra
        dotted config keys for every node (``{"executor.enabled": ["docker"]}``).
        ``env``: extra environment for every daemon (``{"DOCKER_HOST": url}``).
        On any failure everything made so far is removed.
        """
        say = progress or (lambda _m: None)
        if not 1 <= n <= 250:
            raise ValidationError(f"cannot make a testnet of {n} nodes", hint="use 1 to 250")
        shape = plan.Shape(parse_duration_ms(latency), parse_duration_ms(jitter),
                           parse_percent(loss))
        if loopback and not shape.is_zero:
            raise ValidationError("loopback testnets cannot shape traffic",
                                  hint="drop --latency/--jitter/--loss, or run as root "
                                  "without --loopback to get namespaces")
        if shape.jitter_ms and not shape.delay_ms:
            raise ValidationError("jitter needs a latency", hint="e.g. --latency 40ms --jitter 10ms")
        if shaper not in ("auto", "netem", "switch"):
            raise ValidationError(f"unknown shaper {shaper!r}", hint="use auto, netem or switch")
        if not loopback:
            netns.require_root()
        tid = plan.new_id()
        tdir = Path(base_dir) if base_dir else self._dir or st.default_dir(tid)
        if (tdir / st.STATE_FILE).exists():
            raise ValidationError(f"a testnet is already up in {tdir}",
                                  hint=f"run `dms testnet down --dir {tdir}` first")
        tdir.mkdir(parents=True, exist_ok=True)
        self._dir = tdir
        self._env = dict(env or {})
        s = TestnetState(id=tid, dir=str(tdir), mode="loopback" if loopback else "netns",
                         delay_ms=shape.delay_ms, jitter_ms=shape.jitter_ms,
                         loss_pct=shape.loss_pct, created_at=time.time(), daemons=daemons)
        self._state = s
        st.save(s)
        st.mark_current(tdir)
        st.write_secret(tdir / st.PASSPHRASE_FILE, secrets.token_urlsafe(24))
        st.write_secret(tdir / st.ENV_FILE, json.dumps(self._env))  # for later restarts
        try:
            if not loopback:
                self._make_network(s, n, shape, shaper, say)
            s.nodes = [self._plan_node(s, i) for i in range(n)]
            st.save(s)
            if daemons:
                self._start_daemons(s, say, timeout_s, settings or {})
                if trust:
                    self._setup_trust(s, say)
                if onboard:
                    self._onboard(s, say)
            st.save(s)
        except BaseException:
            say("failed: tearing down")
            self.down()
            raise
        return s.nodes

    def _make_network(self, s: TestnetState, n: int, shape: plan.Shape, shaper: str,
                      say: Progress) -> None:
        names = plan.Names(s.id)
        if shaper == "auto":
            shaper = "netem" if netns.netem_supported() else "switch"
        elif shaper == "netem" and not shape.is_zero and not netns.netem_supported():
            raise ValidationError("this kernel has no netem qdisc",
                                  hint="use shaper 'auto' or 'switch' (a userspace delay switch)")
        s.shaper = shaper
        s.subnet = plan.subnet_for(s.id)
        st.save(s)
        say(f"network {s.subnet}: {n} namespaces, shaping by {s.shaper} "
            f"(delay {shape.delay_ms:g}ms, jitter {shape.jitter_ms:g}ms, loss {shape.loss_pct:g}%)")
        netns.create(names, n, s.subnet, shape, s.shaper)  # type: ignore[arg-type]
        if s.shaper == "switch":
            self._start_switch(s, shape, [names.veth(i) for i in range(n)])

    def _start_switch(self, s: TestnetState, shape: plan.Shape, ifnames: list[str]) -> None:
        log = Path(s.dir) / "switch.log"
        argv = plan.switch_argv(sys.executable, s.id, shape, ifnames)
        with log.open("wb") as out:
            proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
        self._procs["switch"] = proc
        deadline = time.monotonic() + 10
        while b"switch ready" not in log.read_bytes():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise TestnetError("the delay switch did not start",
                                   hint=f"see {log}:\n{_tail(str(log))}")
            time.sleep(0.02)

    def _plan_node(self, s: TestnetState, i: int) -> NodeInfo:
        name = f"node{i}"
        ndir = Path(s.dir) / name
        (ndir / "home").mkdir(parents=True, exist_ok=True)
        if s.mode == "netns":
            ns, ip = plan.Names(s.id).netns(i), plan.node_ip(s.subnet, i)
            api, p2p = launch.API_PORT_NETNS, launch.P2P_PORT_NETNS
        else:
            ns, ip, api, p2p = "", "127.0.0.1", _free_port(), _free_port()
        return NodeInfo(name=name, home=str(ndir / "home"), api_port=api,
                        p2p_addr=launch.p2p_multiaddr(ip, p2p), netns=ns, ip=ip,
                        log=str(ndir / "daemon.log"))

    # ------------------------------------------------------------- daemons
    def _passphrase(self) -> str:
        return (self.dir / st.PASSPHRASE_FILE).read_text()

    def _launch(self, node: NodeInfo, bootstrap: list[str], settings: dict[str, Any]) -> None:
        cfg = launch.node_config(node.p2p_addr, bootstrap, settings)
        if cfg:
            (Path(node.home) / "config.json").write_text(json.dumps(cfg, indent=2))
        self._spawn_daemon(node)

    def _spawn_daemon(self, node: NodeInfo) -> None:
        """Start ``node``'s daemon on its home and config as they are."""
        with open(node.log, "ab") as out:
            proc = subprocess.Popen(launch.daemon_argv(node), stdout=out,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    env=launch.node_env(node, self._passphrase(),
                                                        extra=self._env),
                                    start_new_session=True)
        node.pid = proc.pid
        self._procs[node.name] = proc

    def restart(self, ref: str | int, *, crash: bool = False, timeout_s: float = 60.0
                ) -> NodeInfo:
        """Stop one node's daemon (SIGTERM; SIGKILL with ``crash``: nothing is cleaned up
        on the way out) and start it again on the same home, config and addresses;
        returns once it answers /health again."""
        s = self.state
        nd = s.node(ref)
        if not s.daemons:
            raise ValidationError("this testnet runs no daemons", hint="nothing to restart")
        if nd.pid and _is_ours(nd.pid, s.dir):
            if crash:
                os.kill(nd.pid, signal.SIGKILL)
            netns.kill_pids([nd.pid], grace_s=30.0)  # waits until it is gone
        old = self._procs.pop(nd.name, None)
        if old is not None:
            old.wait()
        if not self._env and (self.dir / st.ENV_FILE).exists():
            self._env = json.loads((self.dir / st.ENV_FILE).read_text())
        self._spawn_daemon(nd)
        st.save(s)
        self._wait_healthy(nd, timeout_s)
        return nd

    def _wait_healthy(self, node: NodeInfo, timeout_s: float) -> str:
        deadline = time.monotonic() + timeout_s
        while True:
            proc = self._procs.get(node.name)
            if proc is not None and proc.poll() is not None:
                raise TestnetError(f"{node.name}'s daemon exited with {proc.returncode}",
                                   hint=f"its log, {node.log}:\n{_tail(node.log)}")
            body = self._health(node, 1.0)
            if body is not None:
                return body
            if time.monotonic() > deadline:
                raise TestnetError(f"{node.name} did not answer /health in {timeout_s:g}s",
                                   hint=f"its log, {node.log}:\n{_tail(node.log)}")

    def _health(self, node: NodeInfo, timeout_s: float) -> str | None:
        return self._get(node, "/health", timeout_s)

    def _get(self, node: NodeInfo, path: str, timeout_s: float) -> str | None:
        """GET the node's local API (from inside its namespace); the body or None."""
        url = launch.api_url(node, path)
        if not node.netns:
            return wait_http(url, timeout_s)
        argv = launch.in_node(node, [sys.executable, "-m", "dms.testnet.probe", "http", url,
                                     "--timeout", f"{timeout_s:g}"])
        cp = subprocess.run(argv, capture_output=True, text=True, check=False,
                            timeout=timeout_s + 10)
        return cp.stdout if cp.returncode == 0 else None

    def _identify(self, node: NodeInfo) -> None:
        """Fill DID and peer id from the node's ``/api/v1/status`` (``dms status``)."""
        body = self._get(node, "/api/v1/status", 5.0)
        try:
            info = json.loads(body) if body else {}
        except ValueError:
            info = {}
        if isinstance(info, dict):
            node.did = str(info.get("did") or node.did)
            node.peer_id = str(info.get("peer_id") or node.peer_id)
        if node.did and not node.peer_id:  # same key: the peer id follows from the DID
            node.peer_id = launch.peer_id_from_did(node.did)

    def _start_daemons(self, s: TestnetState, say: Progress, timeout_s: float,
                       settings: dict[str, Any]) -> None:
        first, rest = s.nodes[0], s.nodes[1:]
        t0 = time.monotonic()
        say(f"starting {first.name} (bootstrap node)")
        self._launch(first, [], settings)
        self._wait_healthy(first, timeout_s)
        self._identify(first)
        st.save(s)
        say(f"{first.name} healthy after {time.monotonic() - t0:.1f}s")
        boot = [f"{first.p2p_addr}/p2p/{first.peer_id}"] if first.peer_id else []
        for nd in rest:
            self._launch(nd, boot, settings)
        st.save(s)
        if rest:
            say(f"starting {', '.join(nd.name for nd in rest)}")
        for nd in rest:
            self._wait_healthy(nd, timeout_s)
            self._identify(nd)
            say(f"{nd.name} healthy after {time.monotonic() - t0:.1f}s")
        st.save(s)

    def _setup_trust(self, s: TestnetState, say: Progress) -> None:
        """An organization root every node trusts (:func:`dms.testnet.trust.setup_trust`)."""
        s.org_did = trust.setup_trust(self.dir, s.nodes, self._passphrase())
        st.save(s)
        say(f"trust: every node roots the organization {s.org_did}")

    def _onboard(self, s: TestnetState, say: Progress) -> None:
        """``dms onboard`` on every node, in parallel (short benchmark budget)."""
        t0 = time.monotonic()
        passphrase = self._passphrase()
        procs = [(nd, subprocess.Popen(launch.cli_argv(nd, [*ONBOARD_ARGS, "--json"]),
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                       text=True, env=launch.node_env(nd, passphrase)))
                 for nd in s.nodes]
        failed = []
        for nd, p in procs:
            _out, err = p.communicate(timeout=180)
            if p.returncode != 0:
                failed.append(f"{nd.name}: {err.strip()}")
        if failed:
            raise TestnetError("onboarding failed on " + "; ".join(failed),
                               hint="run `dms onboard` by hand with `dms testnet exec NODE -- "
                               "onboard ...` to see why, or bring the testnet up without it")
        s.onboarded = True
        st.save(s)
        say(f"onboarded {len(s.nodes)} nodes ({' '.join(ONBOARD_ARGS[1:])}) in "
            f"{time.monotonic() - t0:.1f}s")

    # ------------------------------------------------------- use and status
    def exec(self, node: str | int | NodeInfo, args: Sequence[str], *,
             timeout_s: float = 60.0, input: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run ``dms ARGS`` against the node (inside its namespace, with its home)."""
        nd = node if isinstance(node, NodeInfo) else self.node(node)
        return subprocess.run(launch.cli_argv(nd, list(args)), capture_output=True, text=True,
                              env=launch.node_env(nd, self._passphrase()), input=input,
                              timeout=timeout_s, check=False)

    def spawn(self, node: str | int | NodeInfo, argv: Sequence[str],
              stdout: IO[bytes] | int | None = subprocess.DEVNULL) -> subprocess.Popen[bytes]:
        """Start any process inside the node's namespace; :meth:`down` ends it."""
        nd = node if isinstance(node, NodeInfo) else self.node(node)
        proc = subprocess.Popen(launch.in_node(nd, list(argv)), stdout=stdout,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
        self._spawned.append(proc)
        return proc

    def logs(self, node: str | int) -> Path:
        return Path(self.node(node).log)

    def status(self) -> list[NodeStatus]:
        out = []
        for nd in self.nodes:
            running = bool(nd.pid) and netns._alive(nd.pid)
            healthy = running and self._health(nd, 0.5) is not None
            out.append(NodeStatus(nd, running, healthy))
        return out

    # ---------------------------------------------------------------- down
    def down(self) -> netns.Leftovers:
        """Stop every process, remove namespaces, links and the testnet dir."""
        s = self._state
        if s is None:
            try:
                s = st.load(self.dir)
            except NotFound:
                s = None
        pids = [p.pid for p in self._spawned if p.poll() is None]
        if s is not None:
            pids += [nd.pid for nd in s.nodes if nd.pid and _is_ours(nd.pid, s.dir)]
        netns.kill_pids(pids)
        for p in [*self._procs.values(), *self._spawned]:
            if p.poll() is None:
                p.kill()
            p.wait()
            if p.stdout is not None:
                p.stdout.close()
        left = netns.teardown(plan.Names(s.id)) if s is not None and s.mode == "netns" \
            else netns.Leftovers()
        for p in self._procs.values():  # reap the switch if teardown ended it
            p.poll()
        if self._dir is not None:
            st.unmark_current(self._dir)
            shutil.rmtree(self._dir, ignore_errors=True)
        self._procs.clear()
        self._spawned.clear()
        self._state = None
        return left


def down_by_id(tid: str) -> netns.Leftovers:
    """Remove testnet ``tid``'s namespaces, links and processes by name alone."""
    return netns.teardown(plan.Names(tid))


def down_all() -> list[str]:
    """Tear down every testnet: those under /tmp/dms-testnet and any orphaned by a crash."""
    done = []
    if st.ROOT.is_dir():
        for d in sorted(st.ROOT.iterdir()):
            if not d.is_symlink() and (d / st.STATE_FILE).exists():
                tn = Testnet.open(d)
                done.append(tn.state.id)
                tn.down()
    for tid in sorted(netns.testnet_ids_present() - set(done)):
        down_by_id(tid)
        done.append(tid)
    return done


def _is_ours(pid: int, tdir: str) -> bool:
    """Guard against pid reuse: the process must mention the testnet dir."""
    try:
        return tdir.encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
