"""Actors on real libp2p hosts: hello, peers behaviors, broadcast, refusals."""

from __future__ import annotations

import time

import pytest
import trio
from actor_test_helpers import MakeNode, Node, wait_until

from dms.actor import Message
from dms.actor.behaviors import hello_all
from dms.actor.signing import sign
from dms.actor.wire import REPLY_PREFIX, Handle
from dms.crypto.keys import SigningKey
from dms.errors import AuthError, Timeout, ValidationError

pytestmark = pytest.mark.functional


async def test_public_hello_between_nodes(three: list[Node]) -> None:
    n0, n1, _ = three
    answer = await n1.actor.invoke(n0.actor.handle, "/public/hello", {})
    assert answer == {"did": n0.actor.did, "peer_id": n0.net.peer_id, "inbox": "root"}
    status = await n1.actor.invoke(n0.actor.handle, "/public/status", {})
    assert status == {"status": "ok"}


async def test_peers_behaviors(three: list[Node]) -> None:
    n0, n1, n2 = three
    h0 = n0.actor.handle
    listed = await n1.actor.invoke(h0, "/dms/node/peers/list", {})
    assert {p["peer_id"] for p in listed["peers"]} == {n1.net.peer_id, n2.net.peer_id}
    me = await n1.actor.invoke(h0, "/dms/node/peers/self", {})
    assert me["peer_id"] == n0.net.peer_id and me["addrs"]
    ping = await n1.actor.invoke(h0, "/dms/node/peers/ping", {"peer_id": n2.net.peer_id,
                                                               "count": 2})
    assert len(ping["rtt_ms"]) == 2 and ping["avg_ms"] > 0
    await wait_until(lambda: n0.net.dht_routing_table_size() >= 2, what="DHT seeding")
    dht = await n1.actor.invoke(h0, "/dms/node/peers/dht", {"peer_id": n2.net.peer_id})
    assert dht["routing_table_size"] >= 2 and dht["peer"]["peer_id"] == n2.net.peer_id
    # connect: n1 asks n2 to dial n1 directly
    await n1.actor.invoke(n2.actor.handle, "/dms/node/peers/connect", {"addr": n0.net.addrs()[0]})
    got = await n1.actor.invoke(n2.actor.handle, "/dms/node/peers/connect",
                                {"addr": n1.net.addrs()[0]})
    assert got == {"peer_id": n1.net.peer_id}
    with pytest.raises(ValidationError, match="addr"):
        await n1.actor.invoke(n2.actor.handle, "/dms/node/peers/connect", {})


async def test_broadcast_hello_collects_every_reply(three: list[Node]) -> None:
    n0, n1, n2 = three
    await wait_until(lambda: len(n0.net.topic_peers("/nunet/hello")) == 2, what="topic")
    await trio.sleep(1.2)  # one gossipsub heartbeat builds the mesh
    answers = await hello_all(n1.actor, window=2.0)
    assert sorted(a["did"] for a in answers) == sorted([n0.actor.did, n2.actor.did])


async def test_missing_capability_is_refused_fast_with_a_hint(three: list[Node],
                                                              make_node: MakeNode) -> None:
    n0 = three[0]
    outsider = await make_node()
    await outsider.net.connect(n0.net.addrs()[0])
    with pytest.raises(AuthError) as ei:
        await outsider.actor.invoke(n0.actor.handle, "/dms/node/peers/list", {}, timeout=60)
    assert "/dms/node/peers/list" in ei.value.message and ei.value.hint
    with pytest.raises(ValidationError, match="unknown behavior"):
        await outsider.actor.invoke(n0.actor.handle, "/dms/no/such", {}, timeout=60)


class Counter:
    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, msg: Message) -> object:
        self.calls += 1
        return self.calls


@pytest.fixture
async def pair(make_node: MakeNode) -> tuple[Node, Node, Counter]:
    a, b = await make_node(), await make_node()
    counter = Counter()
    b.actor.register("/test/count", counter, public=True)
    await a.net.connect(b.net.addrs()[0])
    return a, b, counter


def _request(a: Node, b: Node, **kw: object):  # type: ignore[no-untyped-def]
    nonce = kw.pop("nonce", None) or f"n{time.monotonic_ns()}"
    return a.actor.envelope(b.actor.handle, "/test/count", {"n": 1}, ttl=30,
                            reply_to=REPLY_PREFIX + str(nonce), nonce=str(nonce), **kw)


async def test_tampered_envelope_is_refused(pair) -> None:  # type: ignore[no-untyped-def]
    a, b, counter = pair
    env = _request(a, b)
    env.payload = {"n": 1000}  # changed after signing; the signed bytes are stale
    env.raw_body = None
    with pytest.raises(AuthError) as ei:
        await a.actor.request(b.actor.handle, env, timeout=60)
    assert ei.value.details["reason"] == "bad_signature"
    assert counter.calls == 0


async def test_expired_envelope_is_refused(pair) -> None:  # type: ignore[no-untyped-def]
    a, b, counter = pair
    env = _request(a, b)
    env.expiry = time.time() - 120
    env.raw_body = None
    sign(env, a.actor._key)
    with pytest.raises(AuthError) as ei:
        await a.actor.request(b.actor.handle, env, timeout=60)
    assert ei.value.details["reason"] == "expired" and counter.calls == 0


async def test_replayed_envelope_is_refused(pair) -> None:  # type: ignore[no-untyped-def]
    a, b, counter = pair
    env = _request(a, b)
    assert await a.actor.request(b.actor.handle, env, timeout=60) == 1
    with pytest.raises(AuthError) as ei:
        await a.actor.request(b.actor.handle, env, timeout=60)
    assert ei.value.details["reason"] == "replayed" and counter.calls == 1


async def test_forged_sender_never_reaches_a_handler(pair) -> None:  # type: ignore[no-untyped-def]
    a, b, counter = pair
    victim = SigningKey.generate()
    env = _request(a, b)
    env.sender = Handle(victim.did, a.net.peer_id)  # claims to be the victim, signed by a
    env.raw_body = None
    sign(env, a.actor._key)
    # the refusal goes to the claimed sender, which is not on a's node: a hears nothing
    with pytest.raises(Timeout):
        await a.actor.request(b.actor.handle, env, timeout=1.0)
    assert counter.calls == 0


async def test_envelope_claiming_another_peer_is_dropped(pair, make_node) -> None:  # type: ignore[no-untyped-def]
    a, b, counter = pair
    c = await make_node()
    env = _request(a, b)
    env.sender = Handle(a.actor.did, c.net.peer_id)  # says it comes from peer c
    env.raw_body = None
    sign(env, a.actor._key)
    await a.net.send_frame(b.net.peer_id, env.to_wire())
    assert await a.actor.invoke(b.actor.handle, "/test/count", {}) == 1  # later ones work
    assert counter.calls == 1
