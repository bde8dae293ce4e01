"""What survives between CLI invocations: ``<testnet dir>/state.json``.

``dms testnet up`` writes it; ``status``, ``exec``, ``logs`` and ``down`` (run later,
from other processes) read it. The default testnet dir is ``$DMS_TESTNET_DIR`` or
``/tmp/dms-testnet/<id>``, and ``/tmp/dms-testnet/current`` points at the last one up.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from dms.errors import NotFound

ROOT = Path("/tmp/dms-testnet")
STATE_FILE = "state.json"
PASSPHRASE_FILE = "passphrase"
ENV_FILE = "daemon-env.json"  # extra daemon environment (may hold credentials: 0600)


@dataclass
class NodeInfo:
    name: str
    home: str
    api_port: int
    p2p_addr: str = ""
    did: str = ""
    peer_id: str = ""
    netns: str = ""  # empty in loopback mode
    ip: str = "127.0.0.1"
    pid: int = 0
    log: str = ""


@dataclass
class TestnetState:
    id: str
    dir: str
    mode: str  # "netns" | "loopback"
    shaper: str = ""  # "netem" | "switch" | "" (none)
    delay_ms: float = 0.0
    jitter_ms: float = 0.0
    loss_pct: float = 0.0
    subnet: str = ""
    created_at: float = 0.0
    daemons: bool = True
    org_did: str = ""  # the organization root every node trusts ("" = no trust set up)
    onboarded: bool = False
    nodes: list[NodeInfo] = field(default_factory=list)

    __test__ = False  # not a pytest class, despite the name

    def node(self, ref: str | int) -> NodeInfo:
        """A node by name (``node1``) or index (``1``)."""
        key = str(ref)
        for i, nd in enumerate(self.nodes):
            if key in (nd.name, str(i)):
                return nd
        names = ", ".join(nd.name for nd in self.nodes) or "none"
        raise NotFound(f"no node {key!r} in testnet {self.id}", hint=f"nodes: {names}")

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TestnetState:
        nodes = [NodeInfo(**n) for n in d.pop("nodes", [])]
        return cls(**d, nodes=nodes)


def save(state: TestnetState) -> None:
    path = Path(state.dir) / STATE_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(state.to_json())
    tmp.replace(path)


def load(tdir: Path) -> TestnetState:
    path = tdir / STATE_FILE
    try:
        return TestnetState.from_dict(json.loads(path.read_text()))
    except FileNotFoundError:
        raise NotFound(f"no testnet at {tdir}",
                       hint="start one with `dms testnet up --nodes 3`, or pass --dir") from None


def default_dir(tid: str) -> Path:
    env = os.environ.get("DMS_TESTNET_DIR")
    return Path(env) if env else ROOT / tid


def resolve_dir(explicit: str | Path | None = None) -> Path:
    """The testnet a command talks to: --dir, else $DMS_TESTNET_DIR, else the current one."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("DMS_TESTNET_DIR")
    if env:
        return Path(env)
    current = ROOT / "current"
    if current.is_symlink() or current.exists():
        return current.resolve()
    raise NotFound("no testnet is up", hint="start one with `dms testnet up --nodes 3`")


def mark_current(tdir: Path) -> None:
    if tdir.parent != ROOT:
        return
    link = ROOT / "current"
    tmp = ROOT / f".current-{os.getpid()}"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(tdir.name)
    tmp.replace(link)


def unmark_current(tdir: Path) -> None:
    link = ROOT / "current"
    if link.is_symlink() and link.resolve() == tdir.resolve():
        link.unlink(missing_ok=True)


def write_secret(path: Path, value: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(value)
