"""``dms testnet``: spawn, inspect and tear down local multi-node networks.

The integrator adds :data:`testnet` to the ``dms`` group (``cli.add_command(testnet)``).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any, NoReturn

import click

from dms.errors import DMSError, ValidationError
from dms.testnet.net import Testnet, down_all, down_by_id
from dms.testnet.state import NodeInfo

_DIR = click.option("--dir", "tdir", type=click.Path(file_okay=False),
                    help="Testnet directory (default: $DMS_TESTNET_DIR, else the current "
                    "testnet under /tmp/dms-testnet).")


def _fail(err: DMSError) -> NoReturn:
    click.echo(f"error: {err.message}", err=True)
    if err.hint:
        click.echo(f"hint: {err.hint}", err=True)
    sys.exit(1)


def _short(s: str, n: int = 24) -> str:
    return s if len(s) <= n else f"{s[:10]}...{s[-10:]}"


def node_table(nodes: list[NodeInfo], extra: dict[str, list[str]] | None = None) -> str:
    """A plain-text table: name, DID, peer id, address, API port (+ extra columns)."""
    head = ["NAME", "DID", "PEER ID", "ADDRESS", "API PORT", *(extra or {})]
    rows = [[nd.name, _short(nd.did) or "-", _short(nd.peer_id) or "-", nd.p2p_addr,
             str(nd.api_port), *(col[i] for col in (extra or {}).values())]
            for i, nd in enumerate(nodes)]
    widths = [max(len(r[c]) for r in [head, *rows]) for c in range(len(head))]
    return "\n".join("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip()
                     for r in [head, *rows])


def _settings(sets: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in sets:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            _fail(ValidationError(f"bad --set {item!r}", hint="write KEY=VALUE, e.g. "
                                  "--set deployment.bid_window_s=2"))
        try:
            out[key.strip()] = json.loads(raw)
        except ValueError:
            out[key.strip()] = raw
    return out


@click.group("testnet")
def testnet() -> None:
    """Local multi-node test networks (namespaces + netem, or loopback)."""


@testnet.command("up")
@click.option("--nodes", "-n", type=click.IntRange(1, 250), default=3, show_default=True)
@click.option("--latency", default="0ms", show_default=True,
              help="One-way delay each node adds (round trip = 2 x latency), e.g. 40ms.")
@click.option("--jitter", default="0ms", show_default=True, help="Delay variation, e.g. 10ms.")
@click.option("--loss", default="0%", show_default=True, help="Packet loss, e.g. 0.1%.")
@click.option("--loopback", is_flag=True, help="No namespaces: nodes on 127.0.0.1 ports.")
@click.option("--no-daemons", is_flag=True, help="Make the network only (no dms run).")
@click.option("--no-trust", is_flag=True, help="Skip the shared organization root and grants.")
@click.option("--onboard", is_flag=True, help="Run `dms onboard` (1 CPU, 1GiB, 2GiB) on every node.")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
              help="Config for every node, e.g. --set 'executor.enabled=[\"docker\"]' (JSON values).")
@_DIR
def up(nodes: int, latency: str, jitter: str, loss: str, loopback: bool, no_daemons: bool,
       no_trust: bool, onboard: bool, sets: tuple[str, ...], tdir: str | None) -> None:
    """Start NODES daemons, each in its own network namespace.

    Each node adds --latency to what it sends: the round trip between two nodes is
    twice the latency.
    """
    t0 = time.monotonic()
    tn = Testnet(tdir)
    try:
        started = tn.up(nodes, latency, jitter, loss, loopback, daemons=not no_daemons,
                        trust=not no_trust, onboard=onboard, settings=_settings(sets),
                        progress=lambda m: click.echo(f"[testnet] {m}", err=True))
    except DMSError as err:
        _fail(err)
    click.echo(f"[testnet] {tn.state.id} up in {time.monotonic() - t0:.1f}s: {tn.dir}", err=True)
    click.echo(node_table(started))


@testnet.command("status")
@_DIR
def status(tdir: str | None) -> None:
    """Which nodes run and answer /health."""
    try:
        tn = Testnet.open(tdir)
        sts = tn.status()
    except DMSError as err:
        _fail(err)
    s = tn.state
    click.echo(f"testnet {s.id} ({s.mode}, shaper {s.shaper or 'none'}, delay {s.delay_ms:g}ms, "
               f"jitter {s.jitter_ms:g}ms, loss {s.loss_pct:g}%) in {s.dir}")
    state = ["healthy" if x.healthy else "running" if x.running else "stopped" for x in sts]
    click.echo(node_table([x.node for x in sts], {"STATE": state}))
    if s.daemons and not all(x.healthy for x in sts):
        sys.exit(1)


@testnet.command("exec", context_settings={"ignore_unknown_options": True})
@click.argument("node")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@_DIR
def exec_(node: str, args: tuple[str, ...], tdir: str | None) -> None:
    """Run a dms command against NODE: dms testnet exec node1 -- status"""
    try:
        cp = Testnet.open(tdir).exec(node, list(args))
    except DMSError as err:
        _fail(err)
    sys.stdout.write(cp.stdout)
    sys.stderr.write(cp.stderr)
    sys.exit(cp.returncode)


@testnet.command("logs")
@click.argument("node")
@click.option("--follow", "-f", is_flag=True, help="Keep printing new lines.")
@_DIR
def logs(node: str, follow: bool, tdir: str | None) -> None:
    """Print NODE's daemon log."""
    try:
        path = Testnet.open(tdir).logs(node)
    except DMSError as err:
        _fail(err)
    if follow:
        try:
            subprocess.run(["tail", "-n", "+1", "-F", str(path)], check=False)
        except KeyboardInterrupt:
            pass
        return
    click.echo(path.read_text(errors="replace") if path.exists() else "", nl=False)


@testnet.command("restart")
@click.argument("node")
@click.option("--crash", is_flag=True,
              help="Kill it (SIGKILL) instead of stopping it: nothing is cleaned up.")
@_DIR
def restart(node: str, crash: bool, tdir: str | None) -> None:
    """Stop NODE's daemon and start it again (same home, config and addresses).

    Tests what a provider or orchestrator does across its own restart, e.g. that the
    workloads it runs are followed again.
    """
    t0 = time.monotonic()
    try:
        nd = Testnet.open(tdir).restart(node, crash=crash)
    except DMSError as err:
        _fail(err)
    click.echo(f"{nd.name} {'crashed' if crash else 'stopped'} and healthy again after "
               f"{time.monotonic() - t0:.1f}s (pid {nd.pid})")


@testnet.command("down")
@click.option("--id", "tid", help="Remove a testnet by id alone (its dir is gone).")
@click.option("--all", "all_", is_flag=True,
              help="Remove every testnet on this machine, crashed ones included.")
@_DIR
def down(tid: str | None, all_: bool, tdir: str | None) -> None:
    """Stop every node and remove everything the testnet made."""
    if all_:
        ids = down_all()
        click.echo(f"[testnet] down: {', '.join(ids) or 'none was up'}", err=True)
        return
    if tid:
        left = down_by_id(tid)
        if not left.empty:
            click.echo(f"error: could not remove {left}", err=True)
            sys.exit(1)
        click.echo(f"[testnet] {tid} down", err=True)
        return
    try:
        tn = Testnet.open(tdir)
    except DMSError as err:
        _fail(err)
    tid = tn.state.id
    left = tn.down()
    if not left.empty:
        click.echo(f"error: could not remove {left}", err=True)
        sys.exit(1)
    click.echo(f"[testnet] {tid} down", err=True)
