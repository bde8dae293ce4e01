"""Bid collection and RTT measurement: the network side of a placement round.

    collect_bids ──direct invoke──▶ every connected and pinned peer   } stop when all of
                 ──gossip──────────▶ /nunet/deployment (the rest)     } them answered, or
                                                                       } the window ends
    measure_rtts ──/dms/deployment/constraint/edge──▶ one peer of each candidate pair
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import trio

from dms.actor.wire import ROOT_INBOX, Handle
from dms.errors import DMSError
from dms.orchestrator import wire
from dms.orchestrator.select import Bid, Decline


async def collect_bids(actor: Any, network: Any, did_of_peer: Callable[[str], str] | None,
                       request: dict[str, Any], plan: Any, window: float, *,
                       ask_self: bool = False) -> tuple[list[Bid], list[Decline]]:
    """Ask for bids: directly to every connected peer and to pinned peers (fast, point to
    point), and on the gossip topic (reaches peers we are not connected to). Stops as
    soon as every connected and pinned peer has answered, or when the bid window ends.
    This node's own provider is asked too when ``ask_self`` or a node is pinned here
    (a local call: no network hop)."""
    bids: list[Bid] = []
    declines: list[Decline] = []
    answered: set[str] = set()

    def take(ans: Any) -> None:
        if not isinstance(ans, dict):
            return
        if isinstance(ans.get("peer_id"), str):
            answered.add(ans["peer_id"])
        for b in ans.get("bids") or ():
            try:
                bids.append(Bid.from_dict(b))
            except (KeyError, TypeError, ValueError):
                continue
        for d in ans.get("declines") or ():
            declines.append(Decline(d.get("node", "?"), d.get("peer_id", "?"),
                                    tuple(d.get("reasons") or ())))

    me = getattr(network, "peer_id", None)
    connected = {p.peer_id for p in network.connected_peers()} if network else set()
    pinned = {np.peer for np in plan.nodes.values() if np.peer}
    expected = (connected | pinned | ({me} if ask_self else set())) - {None}
    done = trio.Event()

    async def direct(peer: str) -> None:
        try:
            h = Handle(did_of_peer(peer), peer, ROOT_INBOX)  # type: ignore[misc]
            take(await actor.invoke(h, wire.REQUEST, request, timeout=window))
        except DMSError as exc:
            answered.add(peer)
            # a refusal (e.g. no capability) or an unreachable peer: say so for its nodes
            why = f"refused the bid request: {exc.message}" if exc.code == "unauthorized" \
                else f"unreachable: {exc.message}"
            declines.extend(Decline(n, peer, (why,)) for n, np in plan.nodes.items()
                            if np.peer in (None, peer))
        if expected <= answered:
            done.set()

    async def gossip() -> None:
        for r in await actor.broadcast_collect(wire.TOPIC, wire.REQUEST, request, window=window):
            if r.error is None:
                take(r.result)

    with trio.move_on_after(window):
        async with trio.open_nursery() as nursery:
            if did_of_peer is not None:
                for peer in expected:
                    nursery.start_soon(direct, peer)
            nursery.start_soon(gossip)
            if expected or did_of_peer is None:
                await done.wait()
                nursery.cancel_scope.cancel()
    # one bid per (node, peer): a peer reached both ways answers twice
    uniq = {(b.node, b.peer_id): b for b in bids}
    udec = {(d.node, d.peer_id): d for d in declines}
    return list(uniq.values()), list(udec.values())


async def measure_rtts(actor: Any, bids: list[Bid]) -> dict[frozenset[str], float]:
    """RTT between candidate peers, measured by one of them (`.../constraint/edge`)."""
    peers = sorted({(b.peer_id, b.did) for b in bids})
    out: dict[frozenset[str], float] = {}
    async with trio.open_nursery() as nursery:
        for i, (pa, da) in enumerate(peers):
            for pb, _ in peers[i + 1:]:
                async def measure(pa: str = pa, da: str = da, pb: str = pb) -> None:
                    try:
                        r = await actor.invoke(Handle(da, pa, ROOT_INBOX), wire.EDGE,
                                               {"peer": pb}, timeout=5)
                        out[frozenset((pa, pb))] = float(r["rtt_ms"])
                    except (DMSError, KeyError, TypeError, ValueError):
                        pass
                nursery.start_soon(measure)
    return out
