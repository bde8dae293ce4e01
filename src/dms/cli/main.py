"""The `dms` command."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from dms._version import __version__
from dms.cli.common import (
    emit,
    group_home_option,
    handle_errors,
    home_option,
    json_option,
    kv,
    resolve_home,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "-V", "--version", prog_name="dms")
@group_home_option
def cli() -> None:
    """dms: put this machine on a decentralized compute network, or deploy onto one.

    \b
    Start a node:            dms run
    See how it is doing:     dms status
    Settings:                dms config show | get KEY | set KEY VALUE
    Keys and identities:     dms key list | new NAME | did NAME

    Every command takes --home (default ~/.dms, or $DMS_HOME) to pick the node.
    The keystore passphrase comes from $DMS_PASSPHRASE, $DMS_PASSPHRASE_FILE or a prompt.
    """


@cli.command()
@json_option
def version(as_json: bool) -> None:
    """Print the dms version."""
    import platform

    info = {"version": __version__, "python": platform.python_version()}
    emit(info, as_json, lambda d: click.echo(f"dms {d['version']} (python {d['python']})"))


@cli.command()
@home_option
@click.option("--api-port", type=click.IntRange(0, 65535), default=None,
              help="Port of the local API (default from config: 9999; 0 = any free port).")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
              help="Override any config key for this run, e.g. --set log.level=debug.")
@handle_errors
def run(home: Path | None, api_port: int | None, sets: tuple[str, ...]) -> None:
    """Start the node daemon in the foreground (Ctrl-C stops it).

    On first start it creates the home directory, the node key (`dms` context) and
    the local user key (`user` context), encrypted with the keystore passphrase.
    """
    import trio

    from dms import config as config_mod
    from dms.cli.passphrase import get_passphrase
    from dms.errors import ConfigError
    from dms.node.daemon import run_daemon
    from dms.telemetry.logs import setup

    home = resolve_home(home)
    flags: dict[str, Any] = {}
    for item in sets:
        if "=" not in item:
            raise ConfigError(f"--set expects KEY=VALUE, got {item!r}", hint="e.g. --set log.level=debug")
        k, v = item.split("=", 1)
        flags[k.strip()] = config_mod.loader._parse_scalar(v)
    if api_port is not None:
        flags["api.port"] = api_port
    cfg = config_mod.load(home, flags=flags)
    setup(cfg.log.level, json_lines=cfg.log.json_format)
    first = not (home / "keys" / "dms.json").exists()
    passphrase = get_passphrase(confirm=first)
    trio.run(run_daemon, home, cfg, passphrase)


@cli.command()
@home_option
@json_option
@click.option("--api-port", type=int, default=None, help="Reach the daemon on this API port.")
@handle_errors
def status(home: Path | None, as_json: bool, api_port: int | None) -> None:
    """Show the running node's identity, version and uptime (exit 2 if none runs)."""
    from dms.cli.client import ApiClient

    client = ApiClient(resolve_home(home), port=api_port)
    data = client.get("/api/v1/status")
    emit(data, as_json, lambda d: click.echo(kv(sorted(d.items()))))


def _add_subcommands() -> None:
    from dms.cli import cap_cmds, config_cmds, deploy_cmds, key_cmds, node_cmds

    cli.add_command(config_cmds.config)
    cli.add_command(key_cmds.key)
    cli.add_command(cap_cmds.cap)
    for cmd in (node_cmds.actor, node_cmds.peers, node_cmds.hello, node_cmds.log_level,
                node_cmds.onboard,
                node_cmds.offboard, node_cmds.onboarding, node_cmds.resources,
                node_cmds.hardware, node_cmds.benchmark, deploy_cmds.deploy,
                deploy_cmds.deployment):
        cli.add_command(cmd)
    from dms.cli import spec_cmds, testnet_cmds

    cli.add_command(spec_cmds.validate, "validate")
    cli.add_command(spec_cmds.translate, "translate")
    cli.add_command(testnet_cmds.testnet, "testnet")


_add_subcommands()


def main() -> None:
    cli(prog_name="dms")


if __name__ == "__main__":
    main()
