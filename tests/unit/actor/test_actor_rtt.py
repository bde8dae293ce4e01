"""Broadcast replies carry their round trip: publish -> arrival, on the caller's clock."""

from __future__ import annotations

import pytest
import trio

from dms.actor import Actor, Message
from dms.actor.behaviors import BROADCAST_HELLO, HELLO_TOPIC, hello_all, register_public

pytestmark = pytest.mark.unit

SLOW_S = 0.25


async def _slow_hello(actor: Actor) -> None:
    """Answers the broadcast hello after SLOW_S seconds (of the test's clock)."""
    async def hello(msg: Message) -> object:
        await trio.sleep(SLOW_S)
        return {"did": actor.did, "peer_id": actor.handle.peer_id}
    actor.register(BROADCAST_HELLO, hello, public=True)
    await actor.subscribe(HELLO_TOPIC)


async def test_broadcast_replies_record_their_round_trip(nodes, autojump_clock) -> None:
    me = await nodes.actor("peer0")
    fast = await nodes.actor("peer1")
    slow = await nodes.actor("peer2")
    await register_public(fast)
    await _slow_hello(slow)
    replies = await me.broadcast_collect(HELLO_TOPIC, BROADCAST_HELLO, {}, window=1.0)
    by_peer = {r.sender.peer_id: r for r in replies}
    assert set(by_peer) == {"peer1", "peer2"}
    assert all(r.rtt_s is not None for r in replies)
    # replies arrive in order, each stamped when it arrived, not when the window closed
    assert [r.sender.peer_id for r in replies] == ["peer1", "peer2"]
    assert by_peer["peer1"].rtt_s < SLOW_S <= by_peer["peer2"].rtt_s < 1.0


async def test_hello_all_reports_rtt_ms_per_answer(nodes, autojump_clock) -> None:
    me = await nodes.actor("peer0")
    slow = await nodes.actor("peer1")
    await _slow_hello(slow)
    answers = await hello_all(me, window=1.0)
    assert len(answers) == 1
    assert answers[0]["peer_id"] == "peer1" and answers[0]["did"] == slow.did
    assert SLOW_S * 1000 <= answers[0]["rtt_ms"] < 1000

