"""`dms config show|get|set`."""

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
def config() -> None:
    """Read and change the node's settings ($DMS_HOME/config.json).

    Precedence: defaults < config file < DMS_* environment (e.g. DMS_API_PORT) < flags.
    """


@config.command()
@home_option
@json_option
@click.option("--all", "show_all", is_flag=True, help="Also show each key's type, default and meaning.")
@click.pass_context
@handle_errors
def show(ctx: click.Context, home: Path | None, as_json: bool, show_all: bool) -> None:
    """Show the effective settings."""
    from dms import config as cfgmod

    cfg = cfgmod.load(resolve_home(home))
    if as_json:
        emit(cfg.model_dump(), True)
        return
    rows = []
    for key, typ, default, desc in cfgmod.describe():
        value = cfgmod.get_value(cfg, key)
        rows.append((key, value, typ, default, desc) if show_all else (key, value))
    headers = ["key", "value", "type", "default", "description"] if show_all else ["key", "value"]
    click.echo(table(rows, headers))


@config.command()
@home_option
@json_option
@click.argument("key")
@handle_errors
def get(home: Path | None, as_json: bool, key: str) -> None:
    """Print the effective value of KEY (a dotted path like api.port)."""
    from dms import config as cfgmod

    value = cfgmod.get_value(cfgmod.load(resolve_home(home)), key)
    emit(value, as_json, lambda v: click.echo(v))


@config.command("set")
@home_option
@click.argument("key")
@click.argument("value")
@handle_errors
def set_(home: Path | None, key: str, value: str) -> None:
    """Validate and store KEY = VALUE in the config file (takes effect at next start)."""
    from dms import config as cfgmod

    stored = cfgmod.set_value(resolve_home(home), key, value)
    click.echo(f"{key} = {stored}")
