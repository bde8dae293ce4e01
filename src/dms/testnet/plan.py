"""Pure planning: names, addresses and the ``ip`` / ``tc`` commands of a testnet.

Nothing here runs anything; :mod:`dms.testnet.netns` executes what this module builds.
Every object a testnet creates carries its id in its name, so teardown can find it
again by prefix even after a crash:

    netns   dms-<id>-<n>       node n's network namespace (``eth0`` inside)
    veth    dmsv-<id>-<n>      host end of node n's veth pair
    bridge  dmsbr-<id>         joins the host ends (``netem`` shaping only)

Addresses come from a private /24 chosen from the id (``10.<200..249>.<0..255>.0/24``).
They exist only on the ``eth0`` interfaces inside the namespaces: the bridge and the
host ends carry no address, so the host's routes never change.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Literal

from dms.testnet.units import format_ms

Shaper = Literal["netem", "switch"]
IFNAMSIZ = 15  # Linux interface names are at most 15 bytes


@dataclass(frozen=True)
class Shape:
    """Link shaping per node: one-way delay, jitter (ms) and loss (percent)."""

    delay_ms: float = 0.0
    jitter_ms: float = 0.0
    loss_pct: float = 0.0

    @property
    def is_zero(self) -> bool:
        return self.delay_ms == 0 and self.jitter_ms == 0 and self.loss_pct == 0


def new_id() -> str:
    """Six hex digits: short enough for interface names, unique enough per machine."""
    return secrets.token_hex(3)


@dataclass(frozen=True)
class Names:
    tid: str

    @property
    def netns_prefix(self) -> str:
        return f"dms-{self.tid}-"

    @property
    def veth_prefix(self) -> str:
        return f"dmsv-{self.tid}-"

    @property
    def bridge(self) -> str:
        return f"dmsbr-{self.tid}"

    def netns(self, n: int) -> str:
        return f"{self.netns_prefix}{n}"

    def veth(self, n: int) -> str:
        name = f"{self.veth_prefix}{n}"
        if len(name) > IFNAMSIZ:
            raise ValueError(f"interface name too long: {name}")
        return name

    def owns_link(self, name: str) -> bool:
        return name == self.bridge or name.startswith(self.veth_prefix)

    def owns_netns(self, name: str) -> bool:
        return name.startswith(self.netns_prefix)


def subnet_for(tid: str) -> str:
    """The testnet's /24, derived from its id: ``10.<200..249>.<0..255>.0/24``."""
    h = hashlib.sha256(tid.encode()).digest()
    return f"10.{200 + h[0] % 50}.{h[1]}.0/24"


def node_ip(subnet: str, n: int) -> str:
    """Node n gets host ``n + 2`` of the /24 (``.1`` is left free, like a gateway)."""
    if not 0 <= n < 250:
        raise ValueError("a testnet holds at most 250 nodes")
    base = subnet.split("/")[0].rsplit(".", 1)[0]
    return f"{base}.{n + 2}"


def netem_args(shape: Shape) -> list[str]:
    """``netem`` parameters: ``delay D [J] [loss L%]``."""
    args = ["netem", "delay", format_ms(shape.delay_ms)]
    if shape.jitter_ms:
        args.append(format_ms(shape.jitter_ms))
    if shape.loss_pct:
        args += ["loss", f"{shape.loss_pct:g}%"]
    return args


def ns_exec(ns: str, argv: list[str]) -> list[str]:
    return ["ip", "netns", "exec", ns, *argv]


def bridge_commands(names: Names) -> list[list[str]]:
    br = names.bridge
    return [["ip", "link", "add", br, "type", "bridge"],
            ["ip", "link", "set", br, "up"]]


def node_commands(names: Names, n: int, subnet: str, shape: Shape,
                  shaper: Shaper) -> list[list[str]]:
    """Namespace, veth pair, address, loopback and shaping for node n."""
    ns, host = names.netns(n), names.veth(n)
    prefix = subnet.split("/")[1]
    cmds = [
        ["ip", "netns", "add", ns],
        ["ip", "link", "add", host, "type", "veth", "peer", "name", "eth0", "netns", ns],
    ]
    if shaper == "netem":
        cmds.append(["ip", "link", "set", host, "master", names.bridge])
    cmds += [
        ["ip", "link", "set", host, "up"],
        ["ip", "-n", ns, "addr", "add", f"{node_ip(subnet, n)}/{prefix}", "dev", "eth0"],
        ["ip", "-n", ns, "link", "set", "lo", "up"],
        ["ip", "-n", ns, "link", "set", "eth0", "up"],
    ]
    if shaper == "netem" and not shape.is_zero:
        cmds.append(ns_exec(ns, ["tc", "qdisc", "add", "dev", "eth0", "root", *netem_args(shape)]))
    return cmds


def switch_argv(python: str, tid: str, shape: Shape, ifnames: list[str]) -> list[str]:
    return [python, "-m", "dms.testnet.switch", "--id", tid,
            "--delay-ms", f"{shape.delay_ms:g}", "--jitter-ms", f"{shape.jitter_ms:g}",
            "--loss", f"{shape.loss_pct / 100:g}", *ifnames]
