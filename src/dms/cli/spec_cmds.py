"""`dms validate FILE` and `dms translate FILE`: the ensemble format on the command line.

Both are plain :class:`click.Command` objects; the `dms` group adds them with
``cli.add_command(validate)`` and ``cli.add_command(translate)``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from dms.cli.common import emit, handle_errors, json_option

__all__ = ["translate", "validate"]


@click.command()
@json_option
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def validate(as_json: bool, file: Path) -> None:
    """Check the ensemble FILE and print every error at once (exit 1 when any).

    Each error gives FILE:LINE:COLUMN, the field path, what was expected and a hint.
    """
    from dms.spec import validate_file

    ensemble, errors = validate_file(file)
    if as_json:
        emit({"file": str(file), "valid": ensemble is not None,
              "errors": [e.to_dict() for e in errors]}, True)
    elif ensemble is not None:
        click.echo(f"ok: {file}: ensemble {ensemble.version}, "
                   f"{len(ensemble.allocations)} allocation(s) on {len(ensemble.nodes)} node(s)")
    else:
        for e in errors:
            click.secho(str(e).split("\n", 1)[0], fg="red", err=False)
            if e.hint:
                click.echo(f"    hint: {e.hint}")
        click.echo(f"{len(errors)} error(s) in {file}", err=True)
    if ensemble is None:
        sys.exit(1)


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--from", "source", type=click.Choice(["k8s", "nomad", "compose"]),
              default=None, help="Source format (guessed from the file when left out).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the ensemble here instead of stdout.")
@handle_errors
def translate(file: Path, source: str | None, output: Path | None) -> None:
    """Translate a Kubernetes, Nomad or Compose FILE into an ensemble (YAML, version V1).

    What the ensemble cannot express is reported on stderr as a warning naming the
    source field; nothing is dropped silently.
    """
    from dms.spec import convert_file, dump_ensemble

    result = convert_file(file, source)
    for w in result.warnings:
        click.secho(str(w), fg="yellow", err=True)
    text = dump_ensemble(result.ensemble)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output} ({result.source_format} -> ensemble V1, "
                   f"{len(result.warnings)} warning(s))", err=True)
