"""Acceptance scaffolding: Gherkin scenarios (pytest-bdd) driving the real ``dms`` CLI.

- every item here is marked ``acceptance``;
- a scenario tagged ``@pending`` (a feature not built yet) runs as a strict xfail whose
  reason starts with "pending", so the report shows it as pending: never skipped, never
  passed. When it starts passing, the strict xfail fails: remove the tag;
- each test records the junit properties ``feature`` and ``scenario`` for the report;
- one session-wide loopback testnet of 3 nodes (``node0``..``node2``) serves all
  scenarios; "node 1" in a step is ``node1``. Its daemons get ``DOCKER_HOST`` of the
  tests' own dockerd (``dms.testing.dockerd``), with the busybox test image built;
  when that dockerd cannot start, the testnet runs without it and every docker step
  fails with the reason;
- shaped (netns) testnets are made once per (size, latency) and shared by the
  scenarios that ask for the same one.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_bdd import given, parsers, then, when

from dms.testnet import launch
from dms.testnet.fixture import testnet as make_testnet
from dms.testnet.net import Testnet

HERE = Path(__file__).parent
NODES = 3
PENDING_REASON = "pending: the feature this scenario describes is not built yet"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE not in Path(str(item.path)).parents:
            continue
        item.add_marker(pytest.mark.acceptance)
        if item.get_closest_marker("pending"):
            item.add_marker(pytest.mark.xfail(reason=PENDING_REASON, strict=True))


def pytest_bdd_before_scenario(request: pytest.FixtureRequest, feature: Any,
                               scenario: Any) -> None:
    # record_property warns under junit xunit2; user_properties is what it appends to
    request.node.user_properties += [("feature", feature.name), ("scenario", scenario.name)]


@pytest.fixture(scope="session")
def docker_env() -> dict[str, str]:
    """``{"DOCKER_HOST": url}`` of the tests' dockerd with the busybox image, or
    ``{"error": why}`` when it cannot run here (docker steps then fail with that)."""
    from dms.testing.dockerd import ensure_dockerd
    from dms.testing.images import ensure_busybox_image

    try:
        host = ensure_dockerd()
        ensure_busybox_image(host)
    except Exception as exc:  # any failure: reported by every docker step
        return {"error": f"{type(exc).__name__}: {exc}"}
    return {"DOCKER_HOST": host}


@pytest.fixture(scope="session")
def acceptance_testnet(tmp_path_factory: pytest.TempPathFactory,
                       docker_env: dict[str, str]) -> Iterator[Testnet]:
    env = {k: v for k, v in docker_env.items() if k == "DOCKER_HOST"}
    with make_testnet(NODES, loopback=True, env=env,
                      base_dir=tmp_path_factory.mktemp("acceptance") / "testnet") as tn:
        yield tn


@pytest.fixture(scope="session")
def shaped_testnet(tmp_path_factory: pytest.TempPathFactory
                   ) -> Iterator[Callable[[int, str], Testnet]]:
    """``shaped_testnet(n, latency)``: made on first use, shared, torn down at the end."""
    made: dict[tuple[int, str], Testnet] = {}
    with contextlib.ExitStack() as stack:
        def get(n: int, latency: str) -> Testnet:
            if (n, latency) not in made:
                base = tmp_path_factory.mktemp("shaped") / "testnet"
                made[(n, latency)] = stack.enter_context(
                    make_testnet(n, latency=latency, base_dir=base))
            return made[(n, latency)]
        yield get


@pytest.fixture
def ctx() -> dict[str, Any]:
    """What the steps of one scenario share (the last command's result)."""
    return {}


@pytest.fixture
def scenario_stack() -> Iterator[contextlib.ExitStack]:
    """Testnets a single scenario makes; torn down when it ends."""
    with contextlib.ExitStack() as stack:
        yield stack


_PLACEHOLDER = re.compile(r"<(peer id|did|user did|name) of node (\d+)>")


def user_did(tn: Testnet, i: int) -> str:
    r = tn.exec(i, ["key", "did", "user", "--json"])
    assert r.returncode == 0, r.stderr
    return str(json.loads(r.stdout)["did"])


def fill(text: str, tn: Testnet | None) -> str:
    """``<peer id of node 0>``, ``<did of node 2>``, ``<user did of node 1>``, filled in."""
    if tn is None:
        return text

    def one(m: re.Match[str]) -> str:
        i = int(m.group(2))
        nd = tn.node(i)
        if m.group(1) == "user did":
            return user_did(tn, i)
        return {"peer id": nd.peer_id, "did": nd.did, "name": nd.name}[m.group(1)]
    return _PLACEHOLDER.sub(one, text)


def _dms_args(command: str, tn: Testnet | None = None) -> list[str]:
    """``dms a b`` -> ``[a, b]``, placeholders filled in."""
    args = shlex.split(fill(command, tn))
    return args[1:] if args and args[0] == "dms" else args


def _maybe_tn(request: pytest.FixtureRequest) -> Testnet | None:
    try:
        return request.getfixturevalue("tn")  # type: ignore[no-any-return]
    except pytest.FixtureLookupError:
        return None


def _json_path(data: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(data, dict) or part not in data:
            pytest.fail(f"no {path!r} in the JSON output: {json.dumps(data)[:500]}")
        data = data[part]
    return data


def _peers_of(tn: Testnet, i: int) -> set[str]:
    r = tn.exec(i, ["peers", "--json"])
    return {p["peer_id"] for p in json.loads(r.stdout)["peers"]} if r.returncode == 0 else set()


# -- Given -----------------------------------------------------------------------------

@given(parsers.parse("a testnet of {n:d} nodes"), target_fixture="tn")
def a_testnet(acceptance_testnet: Testnet, n: int) -> Testnet:
    if n > NODES:
        pytest.fail(f"the acceptance testnet has {NODES} nodes; raise NODES in conftest.py")
    return acceptance_testnet


@given(parsers.parse("a shaped testnet of {n:d} nodes with {latency} latency"),
       target_fixture="tn")
def a_shaped_testnet(shaped_testnet: Callable[[int, str], Testnet], n: int,
                     latency: str) -> Testnet:
    """Namespaces with shaped links (needs root), shared by scenarios that ask alike."""
    return shaped_testnet(n, latency)


@given(parsers.parse("a testnet of {n:d} nodes that do not trust each other"),
       target_fixture="tn")
def an_untrusting_testnet(scenario_stack: contextlib.ExitStack, tmp_path: Path,
                          n: int) -> Testnet:
    """No organization root: every call between nodes needs an explicit grant."""
    return scenario_stack.enter_context(
        make_testnet(n, loopback=True, trust=False, base_dir=tmp_path / "untrusting"))


@given(parsers.parse("node {i:d} is onboarded"))
def node_is_onboarded(tn: Testnet, i: int) -> None:
    if not json.loads(tn.exec(i, ["status", "--json"]).stdout).get("onboarded"):
        r = tn.exec(i, ["onboard", "--cpu", "1", "--ram", "512MiB", "--disk", "1GiB"],
                    timeout_s=120)
        assert r.returncode == 0, r.stderr


@given(parsers.parse("every node is connected to node {i:d}"))
def all_connected(tn: Testnet, i: int) -> None:
    want = {nd.peer_id for j, nd in enumerate(tn.nodes) if j != i}
    deadline = time.monotonic() + 20
    while not want <= (got := _peers_of(tn, i)):
        if time.monotonic() > deadline:
            pytest.fail(f"node {i} is connected to {sorted(got)}, not all of {sorted(want)}")
        time.sleep(0.3)


# -- When ------------------------------------------------------------------------------

@when(parsers.parse('I run "{command}" on node {i:d}'))
def run_on_node(tn: Testnet, ctx: dict[str, Any], command: str, i: int) -> None:
    ctx["result"] = tn.exec(i, _dms_args(command, tn))


@when(parsers.parse('I run "{command}" with an empty home'))
def run_with_empty_home(tmp_path: Path, ctx: dict[str, Any], command: str) -> None:
    with socket.socket() as s:  # a port no daemon listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, DMS_HOME=str(tmp_path / "home"), DMS_API_PORT=str(port))
    ctx["result"] = subprocess.run([*launch.dms_argv(), *_dms_args(command)], env=env,
                                   capture_output=True, text=True, timeout=60, check=False)


@when(parsers.parse('node {a:d} grants "{cap}" to the person on node {b:d}'))
def grant_to_person(tn: Testnet, ctx: dict[str, Any], cap: str, a: int, b: int) -> None:
    r = tn.exec(a, ["cap", "grant", "-c", "dms", "--to", user_did(tn, b), "--cap", cap,
                    "--expiry", "1h"])
    assert r.returncode == 0, r.stderr
    ctx["token"] = r.stdout.strip()
    r = tn.exec(b, ["cap", "anchor", "-c", "user", "--provide", ctx["token"]])
    assert r.returncode == 0, r.stderr


@when(parsers.parse("node {a:d} revokes that grant"))
def revoke_grant(tn: Testnet, ctx: dict[str, Any], a: int) -> None:
    r = tn.exec(a, ["cap", "revoke", "-c", "dms", ctx["token"]])
    assert r.returncode == 0, r.stderr


_HELLO_WAT = r"""
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "%s\n")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const %d))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))
"""


@given(parsers.parse('a WebAssembly module that prints "{text}"'))
def wasm_module(tmp_path: Path, ctx: dict[str, Any], text: str) -> None:
    import wasmtime

    path = tmp_path / "hello.wasm"
    path.write_bytes(wasmtime.wat2wasm(_HELLO_WAT % (text, len(text) + 1)))
    ctx["wasm"] = str(path)


@when(parsers.parse("I deploy this ensemble from node {i:d}:"))
def deploy_ensemble(tn: Testnet, tmp_path: Path, ctx: dict[str, Any], i: int,
                    docstring: str) -> None:
    text = fill(docstring, tn).replace("<wasm module>", ctx.get("wasm", "<no module>"))
    if "<busybox image>" in text:
        from dms.testing.images import BUSYBOX_IMAGE
        text = text.replace("<busybox image>", BUSYBOX_IMAGE)
    if "<host kernel>" in text:
        from dms.testing.guest import find_kernel
        text = text.replace("<host kernel>", str(find_kernel()[0]))
    path = tmp_path / "ensemble.yaml"
    path.write_text(text)
    r = ctx["result"] = tn.exec(i, ["deploy", "-f", str(path), "--json", "--timeout", "20s"],
                                timeout_s=150)
    ctx["deployer"] = i
    with contextlib.suppress(ValueError, TypeError, KeyError):
        ctx["deployment"] = json.loads(r.stdout)["id"]


@given(parsers.parse("node {i:d} is onboarded with the docker executor"))
def node_onboarded_with_docker(tn: Testnet, docker_env: dict[str, str], i: int) -> None:
    if "error" in docker_env:
        pytest.fail(f"the tests' dockerd is not available: {docker_env['error']}")
    node_is_onboarded(tn, i)
    r = tn.exec(i, ["status", "--json"])
    executors = json.loads(r.stdout).get("executors") if r.returncode == 0 else None
    if not executors or "docker" not in executors:
        pytest.fail(f"node {i} does not offer docker (executors: {executors}); its daemon "
                    f"has DOCKER_HOST={docker_env['DOCKER_HOST']}, see {tn.logs(i)}")


@when("I stop the deployment")
def stop_deployment(tn: Testnet, ctx: dict[str, Any]) -> None:
    ctx["result"] = tn.exec(ctx["deployer"], ["deployment", "shutdown", _deployment(ctx),
                                              "--json"], timeout_s=90)


@when(parsers.parse("node {i:d} crashes and comes back"))
def node_crashes(tn: Testnet, i: int) -> None:
    tn.restart(i, crash=True)


@then(parsers.parse('the deployment\'s events include "{text}"'))
def deployment_event(tn: Testnet, ctx: dict[str, Any], text: str) -> None:
    dep, deadline = _deployment(ctx), time.monotonic() + 60
    while True:
        r = tn.exec(ctx["deployer"], ["deployment", "status", dep, "--json"])
        msgs = [e["msg"] for e in json.loads(r.stdout).get("events", [])] \
            if r.returncode == 0 else []
        if any(text in m for m in msgs):
            return
        if time.monotonic() > deadline:
            pytest.fail(f"no event of deployment {dep} says {text!r} after 60s: {msgs}")
        time.sleep(0.5)


@when(parsers.parse("node {a:d} dials node {b:d} at the address the DHT found"))
def dial_found_address(tn: Testnet, ctx: dict[str, Any], a: int, b: int) -> None:
    peer = tn.node(b).peer_id
    found = _json_path(json.loads(_result(ctx).stdout), "peer")
    addrs = [x for x in (found or {}).get("addrs", []) if "/tcp/" in x]
    if not addrs:
        pytest.fail(f"the DHT gave no TCP address for node {b}: {found}")
    addr = addrs[0] if "/p2p/" in addrs[0] else f"{addrs[0]}/p2p/{peer}"
    ctx["result"] = tn.exec(a, ["peers", "connect", addr, "--json"])


# -- Then ------------------------------------------------------------------------------

def _result(ctx: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    if "result" not in ctx:
        pytest.fail("no command ran in this scenario before the check")
    return ctx["result"]


def _deployment(ctx: dict[str, Any]) -> str:
    if "deployment" not in ctx:
        r = _result(ctx)
        pytest.fail(f"no deployment was made in this scenario:\n{r.stdout}{r.stderr}")
    return str(ctx["deployment"])


def _allocations(tn: Testnet, i: int) -> dict[str, Any]:
    r = tn.exec(i, ["resources", "allocated", "--json"])
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)  # type: ignore[no-any-return]


@then(parsers.parse("the exit code is {code:d}"))
def exit_code_is(ctx: dict[str, Any], code: int) -> None:
    r = _result(ctx)
    assert r.returncode == code, f"exit {r.returncode}\nstdout: {r.stdout}\nstderr: {r.stderr}"


@then(parsers.parse('the output contains "{text}"'))
def output_contains(request: pytest.FixtureRequest, ctx: dict[str, Any], text: str) -> None:
    r = _result(ctx)
    text = fill(text, _maybe_tn(request))
    assert text in r.stdout + r.stderr, f"{text!r} not in:\n{r.stdout}{r.stderr}"


@then(parsers.parse('the JSON output has "{path}"'))
def json_has(ctx: dict[str, Any], path: str) -> None:
    _json_path(json.loads(_result(ctx).stdout), path)


@then(parsers.parse('the JSON output has "{path}" equal to {value}'))
def json_equals(request: pytest.FixtureRequest, ctx: dict[str, Any], path: str,
                value: str) -> None:
    value = fill(value, _maybe_tn(request))
    got = _json_path(json.loads(_result(ctx).stdout), path)
    assert got == json.loads(value), f"{path} is {got!r}, not {value}"


@then(parsers.parse('the JSON output has "{path}" containing "{text}"'))
def json_contains(ctx: dict[str, Any], path: str, text: str) -> None:
    got = _json_path(json.loads(_result(ctx).stdout), path)
    assert text in str(got), f"{text!r} not in {path}: {got!r}"


@then(parsers.parse('the JSON output lists "{item}" under "{path}"'))
def json_lists(ctx: dict[str, Any], item: str, path: str) -> None:
    got = _json_path(json.loads(_result(ctx).stdout), path)
    assert item in got, f"{item!r} not in {path}: {got!r}"


@then(parsers.parse("the allocations ran on {k:d} different peers"))
def ran_on_peers(ctx: dict[str, Any], k: int) -> None:
    nodes = _json_path(json.loads(_result(ctx).stdout), "nodes")
    assert len(set(nodes.values())) == k, nodes


@then(parsers.parse('within {s:d} seconds "{command}" on node {i:d} fails with "{text}"'))
def eventually_fails_with(tn: Testnet, s: int, command: str, i: int, text: str) -> None:
    deadline = time.monotonic() + s
    while True:
        r = tn.exec(i, _dms_args(command, tn))
        out = r.stdout + r.stderr
        if r.returncode != 0 and text.lower() in out.lower():
            return
        if time.monotonic() > deadline:
            pytest.fail(f"still exit {r.returncode} without {text!r} after {s}s:\n{out}")
        time.sleep(0.3)


@then(parsers.parse('the output has a "{key}" starting with "{prefix}"'))
def json_key_starts_with(ctx: dict[str, Any], key: str, prefix: str) -> None:
    data = json.loads(_result(ctx).stdout)
    assert str(data.get(key, "")).startswith(prefix), data


@then(parsers.parse("the output lists the peer ids of node {a:d} and node {b:d}"))
def output_lists_peers(tn: Testnet, ctx: dict[str, Any], a: int, b: int) -> None:
    data = json.loads(_result(ctx).stdout)
    got = {p["peer_id"] for p in data["peers"]}
    assert {tn.node(a).peer_id, tn.node(b).peer_id} <= got, got


@then("every other node answers the hello")
def everyone_answers(tn: Testnet, ctx: dict[str, Any]) -> None:
    answered = {r["peer_id"] for r in json.loads(_result(ctx).stdout)}
    others = {nd.peer_id for nd in tn.nodes[1:]}
    assert others <= answered, f"missing: {sorted(others - answered)}"


@then(parsers.parse("every round trip is at least {ms:d} ms"))
def round_trips_at_least(ctx: dict[str, Any], ms: int) -> None:
    rtts = json.loads(_result(ctx).stdout)["rtt_ms"]
    assert rtts and min(rtts) >= ms, rtts


@then("every node reports a different DID")
def every_node_has_its_own_did(tn: Testnet) -> None:
    dids = []
    for nd in tn.nodes:
        r = tn.exec(nd, ["status", "--json"])
        assert r.returncode == 0, r.stderr
        dids.append(json.loads(r.stdout)["did"])
    assert len(set(dids)) == len(dids) == len(tn.nodes)
    assert all(d.startswith("did:key:z6Mk") for d in dids)


@then(parsers.parse('the deployment reaches "{status}"'))
def deployment_reaches(tn: Testnet, ctx: dict[str, Any], status: str) -> None:
    dep, deadline = _deployment(ctx), time.monotonic() + 60
    while True:
        r = tn.exec(ctx["deployer"], ["deployment", "status", dep, "--json"])
        got = json.loads(r.stdout).get("status") if r.returncode == 0 else r.stderr
        if got == status:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"deployment {dep} is {got!r}, not {status!r}, after 60s:\n{r.stdout}")
        time.sleep(0.5)


@then(parsers.parse('its logs contain "{text}"'))
def logs_contain(tn: Testnet, ctx: dict[str, Any], text: str) -> None:
    r = tn.exec(ctx["deployer"], ["deployment", "logs", _deployment(ctx), "--json"])
    assert r.returncode == 0, r.stderr
    # every stream of every allocation: stdout, stderr, a microVM's console
    out = " ".join(str(t) for v in json.loads(r.stdout).values() for t in v.values())
    assert text in out, f"{text!r} not in the logs: {r.stdout}"


@then(parsers.parse("node {i:d} holds resources for it"))
def node_holds_resources(tn: Testnet, i: int) -> None:
    got = _allocations(tn, i)
    assert got["allocated"], f"node {i} has nothing allocated: {got}"


@then("no allocation is left on any node")
def nothing_allocated(tn: Testnet) -> None:
    deadline = time.monotonic() + 20
    while True:
        left = {nd.name: a for nd in tn.nodes
                if (a := _allocations(tn, nd.name))["allocated"] or a["committed"]}
        if not left:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"still allocated after 20s: {left}")
        time.sleep(0.5)


@then(parsers.parse("node {a:d} lists node {b:d} among its peers"))
def lists_peer(tn: Testnet, a: int, b: int) -> None:
    got = _peers_of(tn, a)
    assert tn.node(b).peer_id in got, f"node {a} lists {sorted(got)}"


@then(parsers.parse("every hello answer took at least {ms:d} ms"))
def hello_rtts_at_least(ctx: dict[str, Any], ms: int) -> None:
    answers = json.loads(_result(ctx).stdout)
    rtts = [a.get("rtt_ms") for a in answers]
    assert answers and all(isinstance(x, int | float) and x >= ms for x in rtts), answers
