"""Shared CLI pieces: --home / --json options, output, and error reporting."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from dms.errors import DaemonNotRunning, DMSError, find_dms_error

F = TypeVar("F", bound=Callable[..., Any])


_HOME_META = "dms.home"


def _resolve_home_param(ctx: click.Context, param: click.Parameter, value: Path | None
                        ) -> Path | None:
    """--home given on any level wins over $DMS_HOME: `dms --home X deployment list`,
    `dms deployment --home X list` and `dms deployment list --home X` all mean X (the
    one nearest the command wins)."""
    from click.core import ParameterSource

    if ctx.get_parameter_source(param.name or "home") is ParameterSource.COMMANDLINE:
        ctx.meta[_HOME_META] = value
        return value
    return ctx.meta.get(_HOME_META, value)


def home_option(f: F) -> F:
    return click.option(
        "--home", type=click.Path(file_okay=False, path_type=Path), envvar="DMS_HOME",
        default=None, show_envvar=True, callback=_resolve_home_param,
        help="Node state directory (default ~/.dms).")(f)


def group_home_option(f: F) -> F:
    """--home on a command group, handed down to its commands."""
    return click.option(
        "--home", type=click.Path(file_okay=False, path_type=Path), default=None,
        expose_value=False, callback=_resolve_home_param,
        help="Node state directory for the commands below (default ~/.dms, or $DMS_HOME).")(f)


def json_option(f: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")(f)


def resolve_home(home: Path | None) -> Path:
    from dms.config import default_home

    return (home or default_home()).expanduser()


def handle_errors(f: F) -> F:
    """Print DMSErrors as `error: ... / hint: ...` with exit 1 (2 when no daemon runs)."""

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return f(*args, **kwargs)
        except DMSError as exc:
            print_error(exc)
            sys.exit(2 if isinstance(exc, DaemonNotRunning) else 1)
        except BaseExceptionGroup as group:
            found = find_dms_error(group)
            if found is None:
                raise
            print_error(found)
            sys.exit(2 if isinstance(found, DaemonNotRunning) else 1)

    return wrapper  # type: ignore[return-value]


def print_error(exc: DMSError) -> None:
    click.secho(f"error: {exc.message}", fg="red", err=True)
    if exc.hint:
        click.echo(f"hint: {exc.hint}", err=True)


def emit(data: Any, as_json: bool, human: Callable[[Any], None] | None = None) -> None:
    if as_json or human is None:
        click.echo(json.dumps(data, indent=2, sort_keys=True, default=str))
    else:
        human(data)


def table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> str:
    cells = [[str(h).upper() for h in headers]] + [["" if c is None else str(c) for c in r]
                                                   for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return "\n".join(lines)


def kv(pairs: Sequence[tuple[str, Any]]) -> str:
    width = max((len(k) for k, _ in pairs), default=0)
    return "\n".join(f"{k.ljust(width)}  {_human(v)}" for k, v in pairs)


def _human(v: Any) -> str:
    """Lists as comma-separated text, nothing as '-', the rest as is."""
    if isinstance(v, list | tuple | set):
        return ", ".join(str(x) for x in v) or "-"
    return "-" if v is None else str(v)
