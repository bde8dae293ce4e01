"""How a testnet node's daemon and CLI are invoked: the one place to change it.

    daemon   [ip netns exec NS] dms run --home HOME --api-port PORT
    cli      [ip netns exec NS] dms ARGS...         with DMS_HOME / DMS_API_PORT set
    config   HOME/config.json: p2p listen address and bootstrap peer (node 0)

The daemon and the CLI get ``DMS_HOME``, ``DMS_API_PORT`` and ``DMS_PASSPHRASE`` (the
testnet's generated passphrase) in their environment, so they find the node's home
whichever flags a subcommand takes.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

from dms.testnet.plan import ns_exec
from dms.testnet.state import NodeInfo

API_PORT_NETNS = 9999  # every namespace has its own loopback: one port for all
P2P_PORT_NETNS = 4001


def dms_argv() -> list[str]:
    """The ``dms`` executable next to this interpreter (a venv), else on PATH."""
    here = Path(sys.executable).parent / "dms"
    if here.exists():
        return [str(here)]
    found = shutil.which("dms")
    return [found] if found else [sys.executable, "-m", "dms.cli.main"]


def python_argv() -> list[str]:
    return [sys.executable]


def in_node(node: NodeInfo, argv: list[str]) -> list[str]:
    """``argv`` run inside the node's namespace (unchanged in loopback mode)."""
    return ns_exec(node.netns, argv) if node.netns else argv


def daemon_argv(node: NodeInfo) -> list[str]:
    return in_node(node, [*dms_argv(), "run", "--home", node.home,
                          "--api-port", str(node.api_port)])


def cli_argv(node: NodeInfo, args: list[str]) -> list[str]:
    return in_node(node, [*dms_argv(), *args])


def node_env(node: NodeInfo, passphrase: str, base: dict[str, str] | None = None,
             extra: dict[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: this process's environment) + ``extra`` + the node's DMS_*."""
    env = dict(os.environ if base is None else base)
    env.pop("DMS_TESTNET_DIR", None)
    env |= extra or {}
    env |= {"DMS_HOME": node.home, "DMS_API_PORT": str(node.api_port),
            "DMS_PASSPHRASE": passphrase, "PYTHONUNBUFFERED": "1"}
    return env


def api_url(node: NodeInfo, path: str = "/health") -> str:
    return f"http://127.0.0.1:{node.api_port}{path}"


def p2p_multiaddr(ip: str, port: int) -> str:
    return f"/ip4/{ip}/tcp/{port}"


def peer_id_from_did(did: str) -> str:
    """The libp2p peer id of a node whose identity key is ``did`` (dms uses one key).

    Identity multihash of the protobuf ``PublicKey{Type: Ed25519, Data: key}``,
    base58btc: ``12D3KooW...``.
    """
    import base58

    from dms.identity.did import public_key_from_did

    proto = b"\x08\x01\x12\x20" + public_key_from_did(did)
    return str(base58.b58encode(b"\x00" + bytes([len(proto)]) + proto).decode())


# Settings every testnet node gets (dotted config keys), when the schema has them.
NODE_SETTINGS: dict[str, Any] = {
    "network.mdns": False,  # peers come from node 0 only, never another testnet's nodes
    "onboarding.benchmark_budget_s": 1.0,  # onboarding in seconds, not ~15 s per node
}


def _schema_has(path: str) -> bool:
    from dms.config.schema import Config

    model: Any = Config
    for part in path.split("."):
        fields = getattr(model, "model_fields", None)
        if not fields or part not in fields:
            return False
        model = fields[part].annotation
    return True


def node_config(listen: str, bootstrap: list[str],
                settings: dict[str, Any] | None = None) -> dict[str, Any]:
    """The node's ``config.json``: p2p listen address, bootstrap peers, testnet settings.

    Only keys the config schema knows are written (detected from
    :class:`dms.config.schema.Config`), so the daemon never rejects the file.
    """
    wanted: dict[str, Any] = {"network.listen_addrs": [listen], **NODE_SETTINGS,
                              **(settings or {})}
    if bootstrap:
        wanted["network.bootstrap"] = bootstrap
    tree: dict[str, Any] = {}
    for path, value in wanted.items():
        if not _schema_has(path):
            continue
        *parents, leaf = path.split(".")
        d = tree
        for p in parents:
            d = d.setdefault(p, {})
        d[leaf] = value
    return tree
