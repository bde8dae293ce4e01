"""`dms key new|list|did|export-public`."""

from __future__ import annotations

from pathlib import Path

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


@click.group()
@group_home_option
def key() -> None:
    """Manage the encrypted keystore ($DMS_HOME/keys).

    The node's key is `dms`, the local person's is `user`; both are created on the
    first `dms run`. Private keys never leave the keystore unencrypted.
    """


def _keystore(home: Path | None):  # -> Keystore
    from dms.crypto.keystore import Keystore

    return Keystore(resolve_home(home) / "keys")


@key.command()
@home_option
@json_option
@click.argument("name")
@handle_errors
def new(home: Path | None, as_json: bool, name: str) -> None:
    """Create a new Ed25519 key NAME and print its DID."""
    from dms.cli.passphrase import get_passphrase

    ks = _keystore(home)
    k = ks.create(name, get_passphrase(confirm=True))
    emit({"name": name, "did": k.did}, as_json, lambda d: click.echo(d["did"]))


@key.command("list")
@home_option
@json_option
@handle_errors
def list_(home: Path | None, as_json: bool) -> None:
    """List keys with their DIDs (no passphrase needed)."""
    infos = _keystore(home).list()
    data = [{"name": i.name, "did": i.did, "created": i.created} for i in infos]
    emit(data, as_json, lambda d: click.echo(table([(r["name"], r["did"]) for r in d], ["name", "did"])
                                             if d else "no keys yet (they are created by `dms run` or `dms key new`)"))


@key.command()
@home_option
@json_option
@click.argument("name", default="dms")
@handle_errors
def did(home: Path | None, as_json: bool, name: str) -> None:
    """Print the DID of key NAME (default: the node key `dms`)."""
    vk = _keystore(home).public(name)
    emit({"name": name, "did": vk.did}, as_json, lambda d: click.echo(d["did"]))


@key.command("export-public")
@home_option
@json_option
@click.argument("name", default="dms")
@handle_errors
def export_public(home: Path | None, as_json: bool, name: str) -> None:
    """Print key NAME's public key (hex, base64) and DID; never the private key."""
    import base64

    vk = _keystore(home).public(name)
    d = {"name": name, "did": vk.did, "public_key_hex": vk.raw.hex(),
         "public_key_base64": base64.b64encode(vk.raw).decode()}
    emit(d, as_json, lambda x: click.echo("\n".join(f"{k}: {v}" for k, v in x.items())))
