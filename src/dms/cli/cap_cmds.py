"""`dms cap new|anchor|grant|delegate|list|revoke|remove`: capability contexts."""

from __future__ import annotations

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

CONTEXTS = ("dms", "user")


def context_option(f: Any) -> Any:
    return click.option("-c", "--context", default="user", show_default=True,
                        help="Capability context: `dms` (the node) or `user` (you), "
                             "or any key name in the keystore.")(f)


def _ctx(home: Path | None, context: str) -> Any:
    from dms.cli.passphrase import get_passphrase
    from dms.crypto.keystore import Keystore
    from dms.ucan import CapabilityContext

    h = resolve_home(home)
    key = Keystore(h / "keys").load(context, get_passphrase())
    return CapabilityContext.load(h / "cap" / f"{context}.json", key)


def _duration(text: str) -> float:
    from dms.spec.units import parse_duration

    return float(parse_duration(text))


@click.group()
@group_home_option
def cap() -> None:
    """Capability tokens (UCAN): who may call what.

    \b
    Trust another organisation's root:   dms cap anchor -c dms --root did:key:z6Mk...
    Let Bob deploy on this node:         dms cap grant -c dms --to <bob user DID> --cap /dms/deployment
    Bob keeps that token as a proof:     dms cap anchor -c user --provide <token>
    Revoke it later:                     dms cap revoke -c dms <token>
    """


@cap.command()
@home_option
@json_option
@click.argument("context")
@handle_errors
def new(home: Path | None, as_json: bool, context: str) -> None:
    """Create the capability context CONTEXT (its key must exist: `dms key new NAME`)."""
    ctx = _ctx(home, context)
    emit({"context": context, "did": ctx.did, "path": str(ctx.path)}, as_json,
         lambda d: click.echo(f"context {d['context']} ({d['did']}) at {d['path']}"))


@cap.command()
@home_option
@context_option
@click.option("--root", "root", default=None, help="Trust this DID fully.")
@click.option("--require", "require", default=None,
              help="Accept chains rooted at a DID, limited to this token's capabilities.")
@click.option("--provide", "provide", default=None,
              help="Keep this token (comma-separated chain) as a proof for outgoing calls.")
@handle_errors
def anchor(home: Path | None, context: str, root: str | None, require: str | None,
           provide: str | None) -> None:
    """Add a trust anchor to a context (exactly one of --root, --require, --provide)."""
    from dms.errors import ValidationError

    given = [x for x in (root, require, provide) if x]
    if len(given) != 1:
        raise ValidationError("give exactly one of --root, --require, --provide")
    ctx = _ctx(home, context)
    if root:
        ctx.add_root(root)
        click.echo(f"{context}: trusts {root} as a root")
    elif require:
        t = ctx.add_require(require)
        click.echo(f"{context}: requires token {t.cid}")
    else:
        t = ctx.add_provide(provide)
        click.echo(f"{context}: provides token {t.cid}")


def _issue(home: Path | None, context: str, to: str, caps: tuple[str, ...],
           topics: tuple[str, ...], expiry: str, depth: int | None, delegate: bool) -> str:
    from dms.errors import ValidationError

    if not caps and not topics:
        raise ValidationError("nothing to grant", hint="add --cap /dms/... and/or --topic /nunet/...")
    ctx = _ctx(home, context)
    fn = ctx.delegate if delegate else ctx.grant
    token = fn(to, list(caps), list(topics), expiry_s=_duration(expiry), depth=depth)
    return ",".join(ctx.chain(token)) if delegate else token


@cap.command()
@home_option
@context_option
@click.option("--to", "to", required=True, help="Audience DID.")
@click.option("--cap", "caps", multiple=True, help="Behavior path, e.g. /dms/deployment (repeat).")
@click.option("--topic", "topics", multiple=True, help="Broadcast topic, e.g. /nunet/deployment.")
@click.option("--expiry", default="30d", show_default=True, help="Lifetime, e.g. 1h, 7d.")
@click.option("--depth", type=int, default=None, help="How many further delegations are allowed.")
@handle_errors
def grant(home: Path | None, context: str, to: str, caps: tuple[str, ...],
          topics: tuple[str, ...], expiry: str, depth: int | None) -> None:
    """Issue a root token from CONTEXT to --to (prints the token)."""
    click.echo(_issue(home, context, to, caps, topics, expiry, depth, delegate=False))


@cap.command()
@home_option
@context_option
@click.option("--to", "to", required=True, help="Audience DID.")
@click.option("--cap", "caps", multiple=True, help="Behavior path (repeat).")
@click.option("--topic", "topics", multiple=True, help="Broadcast topic (repeat).")
@click.option("--expiry", default="7d", show_default=True)
@click.option("--depth", type=int, default=None)
@handle_errors
def delegate(home: Path | None, context: str, to: str, caps: tuple[str, ...],
             topics: tuple[str, ...], expiry: str, depth: int | None) -> None:
    """Pass on (a narrower part of) what CONTEXT was given; prints the token chain."""
    click.echo(_issue(home, context, to, caps, topics, expiry, depth, delegate=True))


@cap.command("list")
@home_option
@json_option
@context_option
@handle_errors
def list_(home: Path | None, as_json: bool, context: str) -> None:
    """Anchors and revocations of a context."""
    ctx = _ctx(home, context)
    anchors = [vars(a) for a in ctx.list_anchors()]
    data = {"context": context, "did": ctx.did, "anchors": anchors,
            "revocations": [r.to_dict() for r in ctx.revocations()]}
    emit(data, as_json, lambda d: click.echo(
        f"{context} ({d['did']})\n" + table(
            [(a["kind"], a.get("value") if a["kind"] == "root" else a.get("cid"),
              a.get("aud") or "", ",".join(a.get("abilities") or ())) for a in d["anchors"]],
            ["kind", "did / token", "audience", "abilities"])))


@cap.command()
@home_option
@context_option
@click.argument("token")
@handle_errors
def revoke(home: Path | None, context: str, token: str) -> None:
    """Revoke TOKEN (issued by CONTEXT or above it) and tell every peer."""
    from dms.cli.calls import Caller
    from dms.errors import DaemonNotRunning

    ctx = _ctx(home, context)
    rec = ctx.revoke(token).to_dict()
    try:
        Caller(resolve_home(home)).call("/dms/cap/revoke", {"record": rec})
        click.echo(f"revoked {rec['revoke']} and told the network")
    except DaemonNotRunning:
        click.echo(f"revoked {rec['revoke']} locally (no daemon runs: peers were not told)")


@cap.command()
@home_option
@context_option
@click.argument("kind", type=click.Choice(["root", "require", "provide"]))
@click.argument("value")
@handle_errors
def remove(home: Path | None, context: str, kind: str, value: str) -> None:
    """Remove an anchor (a root DID, or a token / its CID)."""
    from dms.errors import NotFound

    if not _ctx(home, context).remove_anchor(kind, value):
        raise NotFound(f"no {kind} anchor {value!r} in context {context}",
                       hint=f"see them with `dms cap list -c {context}`")
    click.echo(f"removed {kind} anchor")
