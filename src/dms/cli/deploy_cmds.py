"""`dms deploy` and `dms deployment list|status|manifest|logs|shutdown|prune|delete`."""

from __future__ import annotations

import base64
import sys
import time
from pathlib import Path
from typing import Any

import click

from dms.cli.common import (
    emit,
    group_home_option,
    handle_errors,
    home_option,
    json_option,
    resolve_home,
    table,
)

FINAL = ("Completed", "Failed", "Stopped")


def _caller(home: Path | None) -> Any:
    from dms.cli.calls import Caller

    return Caller(resolve_home(home))


@click.command()
@home_option
@json_option
@click.option("-f", "--file", "file", required=True, type=click.Path(exists=True, dir_okay=False,
                                                                      path_type=Path),
              help="Ensemble YAML (see `dms validate`).")
@click.option("--wait/--no-wait", default=True, show_default=True,
              help="Follow the deployment until its tasks finish (or it runs, for services).")
@click.option("--timeout", default="60s", show_default=True,
              help="Deadline for placing the deployment, e.g. 30s, 5m.")
@click.option("--queue", is_flag=True, help="If no node fits now, wait for capacity until the deadline.")
@handle_errors
def deploy(home: Path | None, as_json: bool, file: Path, wait: bool, timeout: str,
           queue: bool) -> None:
    """Deploy an ensemble onto the network and follow it.

    Progress lines show each status transition and the chosen peers; the output of
    finished tasks is printed at the end. Exit code 1 when the deployment fails.
    """
    from dms.spec import validate_file
    from dms.spec.units import parse_duration

    ens, errors = validate_file(file)
    if errors:
        for e in errors:
            click.echo(str(e), err=True)
        sys.exit(1)
    deadline = float(parse_duration(timeout))
    c = _caller(home)
    t0 = time.monotonic()
    d = c.call("/dms/node/deployment/new", {"ensemble": file.read_text(), "timeout": deadline,
                                            "queue": queue})
    eid = d["id"]
    if not as_json:
        click.echo(f"deployment {eid}", err=True)
    if not wait:
        emit(d, as_json, lambda x: click.echo(x["id"]))
        return
    seen = 0
    since = 0.0
    while True:
        # returns as soon as the deployment changes after `since` (no busy polling)
        st = c.call("/dms/node/deployment/status", {"id": eid, "wait": 10.0, "since": since},
                    timeout=40)
        since = st["updated"]
        for ev in st.get("events", [])[seen:]:
            if not as_json:
                click.echo(f"  {ev['t'] - d['created']:6.2f}s  {ev['status']:<12} {ev['msg']}", err=True)
        seen = len(st.get("events", []))
        kinds = {n: a.get("status") for n, a in st.get("allocations", {}).items()}
        services_up = st["status"] == "Running" and _only_services(ens) and kinds and all(
            v == "running" for v in kinds.values())
        if st["status"] in FINAL or services_up:
            break
    elapsed = time.monotonic() - t0
    logs = c.call("/dms/node/deployment/logs", {"id": eid}) if st["status"] in FINAL else {}
    st["logs"] = logs
    st["elapsed_s"] = round(elapsed, 3)
    emit(st, as_json, lambda x: _show_result(x))
    if st["status"] == "Failed":
        sys.exit(1)


def _only_services(ens: Any) -> bool:
    return ens is not None and all(str(a.type) == "service" for a in ens.allocations.values())


def _show_result(st: dict[str, Any]) -> None:
    click.echo(f"{st['status']} in {st['elapsed_s']:.2f}s")
    if st.get("error"):
        click.echo(f"error: {st['error'].get('message')}", err=True)
        if st["error"].get("hint"):
            click.echo(f"hint: {st['error']['hint']}", err=True)
    for name, out in (st.get("logs") or {}).items():
        for stream, text in sorted(out.items()):
            if text:
                click.echo(f"--- {name} ({stream}) ---")
                click.echo(text.rstrip("\n"))


@click.group()
@group_home_option
def deployment() -> None:
    """Deployments this node orchestrated: list, status, manifest, logs, shutdown, prune."""


@deployment.command("list")
@home_option
@json_option
@click.option("--status", default=None, help="Only this status (Running, Completed, Failed, ...).")
@click.option("--limit", default=50, show_default=True)
@click.option("--offset", default=0, show_default=True)
@handle_errors
def dep_list(home: Path | None, as_json: bool, status: str | None, limit: int, offset: int) -> None:
    """Deployments, newest first."""
    out = _caller(home).call("/dms/node/deployment/list",
                             {"status": status, "limit": limit, "offset": offset})
    emit(out, as_json, lambda d: click.echo(table(
        [(x["id"], x["status"], time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(x["created"])),
          ", ".join(f"{n}:{a['status']}" for n, a in x["allocations"].items()))
         for x in d["deployments"]], ["id", "status", "created", "allocations"])
        + f"\n({len(d['deployments'])} of {d['total']})"))


@deployment.command("status")
@home_option
@json_option
@click.argument("id")
@handle_errors
def dep_status(home: Path | None, as_json: bool, id: str) -> None:
    """Status of deployment ID (a unique prefix is enough), with its history."""
    out = _caller(home).call("/dms/node/deployment/status", {"id": id})

    def show(d: dict[str, Any]) -> None:
        click.echo(f"{d['id']}  {d['status']}")
        for n, peer in d["nodes"].items():
            click.echo(f"  node {n} -> {peer}")
        for n, a in d["allocations"].items():
            extra = f" exit={a['exit_code']}" if a.get("exit_code") is not None else ""
            click.echo(f"  allocation {n}: {a['status']}{extra}"
                       + (f" ({a['reason']})" if a.get("reason") else ""))
        if d.get("error"):
            click.echo(f"  error: {d['error'].get('message')}")
        for ev in d.get("events", []):
            click.echo(f"  {ev['t'] - d['created']:7.2f}s {ev['status']:<12} {ev['msg']}")
    emit(out, as_json, show)


@deployment.command("manifest")
@home_option
@json_option
@click.argument("id")
@handle_errors
def dep_manifest(home: Path | None, as_json: bool, id: str) -> None:
    """Where each allocation of deployment ID runs (peers, DIDs, allocation ids)."""
    emit(_caller(home).call("/dms/node/deployment/manifest", {"id": id}), True)
    del as_json


@deployment.command("logs")
@home_option
@json_option
@click.argument("id")
@click.option("-a", "--allocation", default=None, help="Only this allocation.")
@click.option("-f", "--follow", is_flag=True, help="Keep printing new output until it ends.")
@handle_errors
def dep_logs(home: Path | None, as_json: bool, id: str, allocation: str | None, follow: bool) -> None:
    """Output of deployment ID's allocations."""
    c = _caller(home)
    printed: dict[tuple[str, str], int] = {}
    while True:
        out = c.call("/dms/node/deployment/logs", {"id": id, "allocation": allocation})
        if as_json and not follow:
            emit(out, True)
            return
        for name, streams in out.items():
            for stream, text in sorted(streams.items()):
                done = printed.get((name, stream), 0)
                if len(text) > done:
                    prefix = f"[{name} {stream}] " if len(out) > 1 or stream != "stdout" else ""
                    for line in text[done:].splitlines():
                        click.echo(prefix + line)
                    printed[(name, stream)] = len(text)
        if not follow:
            return
        st = c.call("/dms/node/deployment/status", {"id": id})
        if st["status"] in FINAL:
            return
        time.sleep(0.5)


@deployment.command("results")
@home_option
@click.argument("id")
@click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("."), show_default=True, help="Where to write the result files.")
@handle_errors
def dep_results(home: Path | None, id: str, out_dir: Path) -> None:
    """Download the files finished allocations left in /results."""
    d = _caller(home).call("/dms/node/deployment/results", {"id": id})
    n = 0
    for name, files in d.items():
        for rel, b64 in files.items():
            target = out_dir / name / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(base64.b64decode(b64))
            n += 1
    click.echo(f"{n} file(s) written under {out_dir}")


@deployment.command("shutdown")
@home_option
@json_option
@click.argument("id")
@handle_errors
def dep_shutdown(home: Path | None, as_json: bool, id: str) -> None:
    """Stop every allocation of deployment ID (services included)."""
    out = _caller(home).call("/dms/node/deployment/shutdown", {"id": id}, timeout=60)
    emit(out, as_json, lambda d: click.echo(f"{d['id']} {d['status']}"))


@deployment.command("prune")
@home_option
@json_option
@click.option("--before", default=None, help="Only those created longer ago than this, e.g. 24h.")
@click.option("--all", "all_", is_flag=True, help="Every finished deployment.")
@handle_errors
def dep_prune(home: Path | None, as_json: bool, before: str | None, all_: bool) -> None:
    """Forget finished deployments."""
    from dms.spec.units import parse_duration

    payload: dict[str, Any] = {"all": all_}
    if before:
        payload["before"] = time.time() - float(parse_duration(before))
    out = _caller(home).call("/dms/node/deployment/prune", payload)
    emit(out, as_json, lambda d: click.echo(f"pruned {len(d['pruned'])} deployment(s)"))
