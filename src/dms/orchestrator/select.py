"""Selection: pure functions from (what the ensemble needs, the bids that came back) to a
placement. No I/O, no clocks: the shell around them passes ``now`` and an RTT oracle.

    nodes: {name -> Requirements}      bids: [Bid]          edges: [EdgeConstraint]
                     │                    │                     │
                     └──── eligible ──────┴── rank (score) ─────┴── assign (backtracking)
                                                                      │
                                                      Placement {name -> Bid} | NoPlacement(reasons)

Rules: a bid only counts for the ensemble node it answers; expired bids and excluded
peers are dropped; distinct ensemble nodes go to distinct peers (an ensemble "node" is a
machine); among valid assignments the highest total score wins, found greedily in rank
order with backtracking when an edge constraint fails.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dms.resources.compare import Preferences, Requirements, check, score
from dms.resources.model import MachineCapability


@dataclass(frozen=True)
class Bid:
    """A provider's offer to host one ensemble node."""

    node: str                    # the ensemble node name the bid answers
    peer_id: str
    did: str
    capability: MachineCapability
    expires_at: float = float("inf")

    def to_dict(self) -> dict[str, Any]:
        return {"node": self.node, "peer_id": self.peer_id, "did": self.did,
                "capability": self.capability.to_dict(), "expires_at": self.expires_at}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Bid:
        return cls(node=str(d["node"]), peer_id=str(d["peer_id"]), did=str(d["did"]),
                   capability=MachineCapability.from_dict(d.get("capability")),
                   expires_at=float(d.get("expires_at", float("inf"))))


@dataclass(frozen=True)
class Decline:
    """A provider's answer that it cannot host a node, and why."""

    node: str
    peer_id: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class EdgeConstraint:
    s: str
    t: str
    rtt_ms: float | None = None


@dataclass(frozen=True)
class Placement:
    assignment: Mapping[str, Bid]
    total_score: float


@dataclass(frozen=True)
class NoPlacement:
    """Why no placement exists: per ensemble node, the reasons gathered."""

    reasons: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def message(self) -> str:
        parts = []
        for node, rs in sorted(self.reasons.items()):
            parts.append(f"{node}: " + ("; ".join(rs) if rs else "no bids"))
        return "no eligible placement — " + " | ".join(parts)


RttOracle = Callable[[str, str], float | None]


def rank(req: Requirements, bids: Sequence[Bid], prefs: Preferences | None = None
         ) -> list[tuple[float, Bid]]:
    """Eligible bids with their score, best first; ties broken by peer id (deterministic)."""
    scored = [(score(req, b.capability, prefs), b) for b in bids]
    ok = [(s, b) for s, b in scored if s != float("-inf")]
    ok.sort(key=lambda sb: (-sb[0], sb[1].peer_id))
    return ok


def select(nodes: Mapping[str, Requirements], bids: Sequence[Bid], *, now: float = 0.0,
           exclude: frozenset[str] = frozenset(), pins: Mapping[str, str] | None = None,
           edges: Sequence[EdgeConstraint] = (), rtt: RttOracle | None = None,
           declines: Sequence[Decline] = (), prefs: Preferences | None = None,
           max_steps: int = 10_000) -> Placement | NoPlacement:
    """Choose one bid per ensemble node, or say why that is impossible."""
    pins = pins or {}
    reasons: dict[str, list[str]] = {n: [] for n in nodes}
    for d in declines:
        if d.node in reasons:
            reasons[d.node].append(f"{_short(d.peer_id)} declined: {', '.join(d.reasons)}")
    candidates: dict[str, list[tuple[float, Bid]]] = {}
    for name, req in nodes.items():
        mine = []
        for b in bids:
            if b.node != name:
                continue
            if b.expires_at <= now:
                reasons[name].append(f"{_short(b.peer_id)}: bid expired")
            elif b.peer_id in exclude:
                reasons[name].append(f"{_short(b.peer_id)}: excluded (failed earlier)")
            elif name in pins and b.peer_id != pins[name]:
                reasons[name].append(f"{_short(b.peer_id)}: node is pinned to {_short(pins[name])}")
            else:
                fit = check(req, b.capability)
                if not fit.ok:
                    reasons[name].append(f"{_short(b.peer_id)}: {'; '.join(fit.reasons)}")
                mine.append(b)
        candidates[name] = rank(req, mine, prefs)
        if not candidates[name]:
            return NoPlacement({k: tuple(v) for k, v in reasons.items() if k == name or v})

    order = sorted(nodes, key=lambda n: (len(candidates[n]), n))  # most constrained first
    best: list[Placement | None] = [None]
    steps = [0]

    def edges_ok(assign: dict[str, Bid]) -> bool:
        for e in edges:
            if e.rtt_ms is None or e.s not in assign or e.t not in assign:
                continue
            measured = rtt(assign[e.s].peer_id, assign[e.t].peer_id) if rtt else None
            if measured is None or measured > e.rtt_ms:
                return False
        return True

    def search(i: int, assign: dict[str, Bid], used: set[str], total: float) -> None:
        steps[0] += 1
        if steps[0] > max_steps:
            return
        if i == len(order):
            if best[0] is None or total > best[0].total_score:
                best[0] = Placement(dict(assign), total)
            return
        name = order[i]
        for s, b in candidates[name]:
            if b.peer_id in used:
                continue
            assign[name] = b
            if edges_ok(assign):
                used.add(b.peer_id)
                search(i + 1, assign, used, total + s)
                used.discard(b.peer_id)
            del assign[name]
            if best[0] is not None:
                return  # candidates are in rank order: the first complete one is greedy-best

    search(0, {}, set(), 0.0)
    if best[0] is not None:
        return best[0]
    for name in nodes:
        reasons[name].append("no combination of bidders met the distinct-peer and edge constraints"
                             if len(nodes) > 1 else "no bidder fits")
    return NoPlacement({k: tuple(v) for k, v in reasons.items()})


def _short(peer_id: str) -> str:
    return peer_id[-8:] if len(peer_id) > 8 else peer_id
