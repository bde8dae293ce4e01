"""Commands that call node behaviors: actor, peers, hello, onboarding, resources, ..."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from dms.cli.common import (
    emit,
    group_home_option,
    handle_errors,
    home_option,
    json_option,
    kv,
    resolve_home,
    table,
)


def _caller(home: Path | None) -> Any:
    from dms.cli.calls import Caller

    return Caller(resolve_home(home))


def _size(n: Any) -> str:
    from dms.resources.units import format_size

    return format_size(int(n)) if isinstance(n, int | float) else str(n)


def _res_line(r: dict[str, Any] | None) -> str:
    if not r:
        return "none"
    gpus = r.get("gpus") or []
    g = f", {len(gpus)} GPU(s)" if gpus else ""
    return (f"{r['cpu']['cores']:g} cores, {_size(r['ram']['size'])} RAM, "
            f"{_size(r['disk']['size'])} disk{g}")


# -- actor ---------------------------------------------------------------------------------
@click.group()
@group_home_option
def actor() -> None:
    """Send signed messages to actors (any behavior, any node)."""


def _payload(payload: str | None) -> Any:
    from dms.errors import ValidationError

    try:
        return json.loads(payload) if payload else None
    except ValueError as exc:
        raise ValidationError(f"--payload is not JSON: {exc}", hint="quote it: -p '{\"k\": 1}'") from exc


def _actor_options(f: Any) -> Any:
    for option in reversed((
            home_option, json_option, click.argument("behavior"),
            click.option("-d", "--dest", default=None,
                         help="Peer id of the destination node (default: local node)."),
            click.option("-p", "--payload", default=None,
                         help="JSON payload, e.g. '{\"peer\": \"12D3...\"}'."))):
        f = option(f)
    return f


@actor.command("cmd")
@_actor_options
@click.option("-t", "--timeout", default=30.0, show_default=True, help="Seconds to wait for the reply.")
@handle_errors
def actor_cmd(home: Path | None, as_json: bool, behavior: str, dest: str | None,
              payload: str | None, timeout: float) -> None:
    """Invoke BEHAVIOR (a path such as /dms/node/peers/list) and print the reply.

    The call is signed with your `user` key and carries your capability tokens; the
    destination refuses it with a reason if you lack the capability. `dms actor invoke`
    is the same command.
    """
    out = _caller(home).call(behavior, _payload(payload), dest=dest, timeout=timeout)
    emit(out, True)
    del as_json


actor.add_command(actor_cmd, "invoke")


@actor.command("send")
@_actor_options
@handle_errors
def actor_send(home: Path | None, as_json: bool, behavior: str, dest: str | None,
               payload: str | None) -> None:
    """Send BEHAVIOR without waiting for an answer (fire and forget).

    The message is signed like `dms actor cmd`; a refusal or failure is only logged by
    the receiver. Use `dms actor cmd` to see the answer.
    """
    out = _caller(home).call(behavior, _payload(payload), dest=dest, reply=False)
    emit(out, as_json, lambda d: click.echo("sent"))


# -- peers ---------------------------------------------------------------------------------
@click.group(invoke_without_command=True)
@home_option
@json_option
@click.pass_context
@handle_errors
def peers(ctx: click.Context, home: Path | None, as_json: bool) -> None:
    """Peers of this node: list (default), self, ping, connect, dht."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(peers_list, home=home, as_json=as_json)


@peers.command("list")
@home_option
@json_option
@handle_errors
def peers_list(home: Path | None, as_json: bool) -> None:
    """Connected peers."""
    out = _caller(home).call("/dms/node/peers/list")
    rows = out.get("peers", out) if isinstance(out, dict) else out
    emit(out, as_json, lambda _: click.echo(
        table([(p["peer_id"], ", ".join(p.get("addrs", [])[:2])) for p in rows], ["peer id", "addrs"])
        if rows else "no peers connected"))


@peers.command("self")
@home_option
@json_option
@handle_errors
def peers_self(home: Path | None, as_json: bool) -> None:
    """This node's peer id and addresses."""
    out = _caller(home).call("/dms/node/peers/self")
    emit(out, as_json, lambda d: click.echo(kv(sorted((k, v) for k, v in d.items()))))


@peers.command("ping")
@home_option
@json_option
@click.argument("peer_id")
@click.option("-c", "--count", default=3, show_default=True)
@handle_errors
def peers_ping(home: Path | None, as_json: bool, peer_id: str, count: int) -> None:
    """Round-trip time to PEER_ID over libp2p ping."""
    out = _caller(home).call("/dms/node/peers/ping", {"peer_id": peer_id, "count": count})
    emit(out, as_json, lambda d: click.echo(
        f"{d['peer_id']}: " + " ".join(f"{x:.2f}" for x in d["rtt_ms"]) + f" ms (avg {d['avg_ms']:.2f})"))


@peers.command("connect")
@home_option
@json_option
@click.argument("multiaddr")
@handle_errors
def peers_connect(home: Path | None, as_json: bool, multiaddr: str) -> None:
    """Dial MULTIADDR (/ip4/1.2.3.4/tcp/9000/p2p/12D3...)."""
    out = _caller(home).call("/dms/node/peers/connect", {"addr": multiaddr})
    emit(out, as_json, lambda d: click.echo(f"connected: {d}"))


@peers.command("dht")
@home_option
@json_option
@click.option("--find", "find", default=None, help="Look up this peer id in the DHT.")
@click.option("--providers-of", default=None, help="Find providers of this key.")
@handle_errors
def peers_dht(home: Path | None, as_json: bool, find: str | None, providers_of: str | None) -> None:
    """DHT routing table size, peer lookups, provider records."""
    payload = {k: v for k, v in (("peer_id", find), ("providers_of", providers_of)) if v}
    emit(_caller(home).call("/dms/node/peers/dht", payload), True)
    del as_json


@click.command()
@home_option
@json_option
@click.option("--window", default=1.0, show_default=True, help="Seconds to collect replies.")
@handle_errors
def hello(home: Path | None, as_json: bool, window: float) -> None:
    """Broadcast hello on the network and list who answered."""
    out = _caller(home).call("/dms/node/hello", {"window": window}, timeout=window + 10)
    emit(out, as_json, lambda d: click.echo(
        table([(r.get("peer_id"), r.get("did"),
                f"{r['rtt_ms']:.1f}" if isinstance(r.get("rtt_ms"), int | float) else "")
               for r in d], ["peer id", "did", "rtt ms"]) if d else "no answers"))


@click.command("log-level")
@home_option
@json_option
@click.argument("level", required=False,
                type=click.Choice(["debug", "info", "warning", "error"], case_sensitive=False))
@handle_errors
def log_level(home: Path | None, as_json: bool, level: str | None) -> None:
    """Show the running node's log level, or change it (until the node stops).

    For a lasting change: dms config set log.level debug (read at the next start).
    """
    out = _caller(home).call("/dms/node/logger/config", {"level": level} if level else None)
    emit(out, as_json, lambda d: click.echo(d["level"]))


# -- onboarding and resources --------------------------------------------------------------
@click.command()
@home_option
@json_option
@click.option("--cpu", required=True, help="Cores to offer, e.g. 1 or 0.5.")
@click.option("--ram", required=True, help="Memory to offer, e.g. 1GiB, 512MB.")
@click.option("--disk", required=True, help="Disk to offer, e.g. 2GiB.")
@click.option("--gpus", default=None, help='GPUs to offer as "index:vram,...", e.g. "0:4GiB,1:8GiB".')
@click.option("--no-gpu", is_flag=True, help="Offer no GPU.")
@click.option("--rebenchmark", is_flag=True, help="Benchmark again even if a fresh result exists.")
@handle_errors
def onboard(home: Path | None, as_json: bool, cpu: str, ram: str, disk: str, gpus: str | None,
            no_gpu: bool, rebenchmark: bool) -> None:
    """Offer a share of this machine to the network (benchmarks it, up to ~20 s)."""
    from dms.errors import ValidationError
    from dms.resources.units import parse_cores, parse_size

    for flag, value, parse in (("--cpu", cpu, parse_cores), ("--ram", ram, parse_size),
                               ("--disk", disk, parse_size)):
        try:
            parse(value)
        except ValidationError as exc:
            raise ValidationError(f"{flag} {value!r}: {exc.message}", hint=exc.hint) from exc
    shares = None
    if gpus:
        shares = []
        for part in gpus.split(","):
            idx, _, vram = part.strip().partition(":")
            if not idx.strip().isdigit():
                raise ValidationError(f"--gpus entry {part!r} is not INDEX[:VRAM]",
                                      hint='e.g. --gpus "0:4GiB,1:8GiB"')
            shares.append([int(idx), vram or None])
    if not as_json:
        click.echo("onboarding: checking the hardware and benchmarking (up to ~20 s)...", err=True)
    out = _caller(home).call("/dms/node/onboarding/onboard",
                             {"cpu": cpu, "ram": ram, "disk": disk, "gpus": shares,
                              "no_gpu": no_gpu, "rebenchmark": rebenchmark}, timeout=120)
    emit(out, as_json, _show_onboarding)


def _show_onboarding(d: dict[str, Any]) -> None:
    res = d.get("resources") or {}
    b = d.get("benchmark") or {}
    pairs = [("onboarded", d.get("onboarded")), ("onboarded resources", _res_line(res.get("onboarded"))),
             ("free", _res_line(res.get("free")))]
    if b:
        pairs += [("cpu single", f"{b.get('cpu_single_ops', 0):,.0f} ops/s"),
                  ("cpu all cores", f"{b.get('cpu_multi_ops', 0):,.0f} ops/s"),
                  ("memory copy", f"{b.get('memory_copy_gbps', 0):.2f} GB/s"),
                  ("disk random read", f"{b.get('disk_iops', 0):,.0f} IOPS"),
                  ("disk write/read", f"{b.get('disk_write_mbps', 0):.0f} / {b.get('disk_read_mbps', 0):.0f} MB/s"),
                  ("benchmark reused", d.get("benchmark_reused"))]
    click.echo(kv(pairs))


@click.command()
@home_option
@json_option
@click.option("--force", is_flag=True, help="Also stop allocations that still run.")
@handle_errors
def offboard(home: Path | None, as_json: bool, force: bool) -> None:
    """Stop offering this machine's resources."""
    out = _caller(home).call("/dms/node/onboarding/offboard", {"force": force})
    emit(out, as_json, lambda d: click.echo("offboarded" + (f"; stopped {', '.join(d['dropped'])}" if d.get("dropped") else "")))


@click.group()
@group_home_option
def onboarding() -> None:
    """Onboarding state."""


@onboarding.command("status")
@home_option
@json_option
@handle_errors
def onboarding_status(home: Path | None, as_json: bool) -> None:
    """Whether this machine is onboarded, what it offers, its benchmark."""
    emit(_caller(home).call("/dms/node/onboarding/status"), as_json, _show_onboarding)


@click.command()
@home_option
@json_option
@click.argument("which", type=click.Choice(["onboarded", "free", "allocated"]), default="free")
@handle_errors
def resources(home: Path | None, as_json: bool, which: str) -> None:
    """Resources: onboarded, free (default) or allocated."""
    out = _caller(home).call(f"/dms/node/resources/{which}")
    if which == "allocated":
        emit(out, as_json, lambda d: click.echo(
            table([(k, "allocated", _res_line(v.get("resources"))) for k, v in (d.get("allocated") or {}).items()]
                  + [(k, "committed", _res_line(v.get("resources"))) for k, v in (d.get("committed") or {}).items()],
                  ["id", "state", "resources"]) or "nothing allocated"))
    else:
        emit(out, as_json, lambda d: click.echo(_res_line(d)))


@click.command()
@home_option
@json_option
@click.argument("which", type=click.Choice(["spec", "usage"]), default="spec")
@handle_errors
def hardware(home: Path | None, as_json: bool, which: str) -> None:
    """This machine's hardware (spec) or its current usage."""
    emit(_caller(home).call(f"/dms/node/hardware/{which}"), True)
    del as_json


@click.command()
@home_option
@json_option
@click.option("--reuse", is_flag=True, help="Reuse a fresh stored result instead of re-running.")
@handle_errors
def benchmark(home: Path | None, as_json: bool, reuse: bool) -> None:
    """Benchmark this machine (CPU, memory, disk, GPU) and store the result."""
    if not as_json:
        click.echo("benchmarking (up to ~20 s)...", err=True)
    out = _caller(home).call("/dms/node/onboarding/benchmark", {"force": not reuse}, timeout=120)
    emit(out, as_json, lambda b: click.echo(kv(sorted((k, v) for k, v in b.items()
                                                       if not isinstance(v, dict | list)))))
