from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dms.orchestrator.select import Bid, Decline, EdgeConstraint, NoPlacement, Placement, select
from dms.resources.compare import Requirements
from dms.resources.model import Location, MachineCapability, Resources

pytestmark = pytest.mark.unit
GiB = 2**30


def cap(cores: float = 2, ram: int = 4 * GiB, executors=("docker",), country: str | None = None):
    return MachineCapability(resources=Resources.of(cores, ram, 10 * GiB), executors=executors,
                             location=Location(country=country))


def req(cores: float = 1, ram: int = GiB, executors=("docker",)) -> Requirements:
    return Requirements(resources=Resources.of(cores, ram, GiB), executors=executors)


def test_exact_fit_is_eligible() -> None:
    r = Requirements(resources=Resources.of(2, 4 * GiB, 10 * GiB), executors=("docker",))
    out = select({"a": r}, [Bid("a", "peerA", "did:a", cap())])
    assert isinstance(out, Placement) and out.assignment["a"].peer_id == "peerA"


def test_best_scored_bid_wins_and_distinct_peers() -> None:
    bids = [Bid("a", "small", "d1", cap(cores=1.5)), Bid("a", "big", "d2", cap(cores=16)),
            Bid("b", "big", "d2", cap(cores=16)), Bid("b", "small", "d1", cap(cores=1.5))]
    out = select({"a": req(), "b": req()}, bids)
    assert isinstance(out, Placement)
    assert {out.assignment["a"].peer_id, out.assignment["b"].peer_id} == {"small", "big"}


def test_reasons_gathered_from_declines_and_misfits() -> None:
    bids = [Bid("a", "p1", "d1", cap(cores=0.5))]
    declines = [Decline("a", "p2", ("insufficient cpu: 1 wanted, 0.2 free",))]
    out = select({"a": req()}, bids, declines=declines)
    assert isinstance(out, NoPlacement)
    msg = out.message()
    assert "p2 declined: insufficient cpu" in msg and "p1:" in msg and "cpu" in msg


def test_expired_excluded_and_pinned() -> None:
    bids = [Bid("a", "old", "d", cap(), expires_at=5), Bid("a", "bad", "d", cap()),
            Bid("a", "other", "d", cap())]
    out = select({"a": req()}, bids, now=10, exclude=frozenset({"bad"}), pins={"a": "pinned"})
    assert isinstance(out, NoPlacement)
    text = out.message()
    assert "expired" in text and "excluded" in text and "pinned" in text
    out2 = select({"a": req()}, bids, now=10, exclude=frozenset({"bad"}))
    assert isinstance(out2, Placement) and out2.assignment["a"].peer_id == "other"


def test_edge_constraints_backtrack() -> None:
    bids = [Bid("a", "p1", "d1", cap(cores=8)), Bid("a", "p2", "d2", cap(cores=4)),
            Bid("b", "p3", "d3", cap(cores=8))]
    rtts = {frozenset({"p1", "p3"}): 80.0, frozenset({"p2", "p3"}): 10.0}
    out = select({"a": req(), "b": req()}, bids, edges=[EdgeConstraint("a", "b", 20)],
                 rtt=lambda x, y: rtts.get(frozenset({x, y})))
    assert isinstance(out, Placement)
    assert out.assignment["a"].peer_id == "p2"  # p1 scores higher but breaks the edge
    out2 = select({"a": req(), "b": req()}, bids, edges=[EdgeConstraint("a", "b", 5)],
                  rtt=lambda x, y: rtts.get(frozenset({x, y})))
    assert isinstance(out2, NoPlacement) and "edge" in out2.message()


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.sampled_from(["a", "b", "c"]), st.floats(0.5, 4), min_size=1),
       st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), st.sampled_from(["p1", "p2", "p3", "p4"]),
                          st.floats(0, 8)), max_size=12))
def test_placement_is_valid_whenever_returned(want, offers) -> None:
    nodes = {n: req(cores=c) for n, c in want.items()}
    bids = [Bid(n, p, "d-" + p, cap(cores=c)) for n, p, c in offers]
    out = select(nodes, bids)
    if isinstance(out, Placement):
        assert set(out.assignment) == set(nodes)
        peers = [b.peer_id for b in out.assignment.values()]
        assert len(peers) == len(set(peers))
        for n, b in out.assignment.items():
            assert b.node == n and b.capability.resources.cpu.cores >= nodes[n].resources.cpu.cores
    else:
        assert set(out.reasons) & set(nodes)
        # complete: brute force finds no valid assignment either
        import itertools

        names = sorted(nodes)
        options = [[b for b in bids if b.node == n
                    and b.capability.resources.cpu.cores >= nodes[n].resources.cpu.cores]
                   for n in names]
        for combo in itertools.product(*options):
            assert len({b.peer_id for b in combo}) < len(combo), f"missed placement {combo}"
