"""Actors over an in-memory transport: invoke, errors as replies, broadcast, inboxes."""

from __future__ import annotations

import pytest
import trio

from dms.actor import Actor, AllowList, Message
from dms.actor.behaviors import BROADCAST_HELLO, HELLO_TOPIC, hello_all, register_public
from dms.actor.wire import REPLY_PREFIX, Envelope
from dms.errors import AuthError, DMSError, Timeout, ValidationError

pytestmark = pytest.mark.unit


async def _echo(msg: Message) -> object:
    return {"got": msg.payload, "from": msg.sender.did}


async def test_invoke_returns_the_handler_result(nodes) -> None:
    a = await nodes.actor("peerA")
    b = await nodes.actor("peerB")
    b.register("/test/echo", _echo)
    assert await a.invoke(b.handle, "/test/echo", {"n": 1}) == {"got": {"n": 1}, "from": a.did}


async def test_each_message_is_signed_and_carries_proofs(nodes) -> None:
    class Proofs(AllowList):
        def proofs_for(self, audience_did: str, ability: str, topic: str | None = None) -> list[str]:
            return [f"token-for-{ability}"]

    seen: list[list[str]] = []

    class Checking(AllowList):
        def authorize(self, caller_did: str, ability: str, tokens: list[str], *,
                      topic: str | None = None) -> None:
            seen.append(tokens)

    a = await nodes.actor("peerA", authorizer=Proofs())
    b = await nodes.actor("peerB", authorizer=Checking())
    b.register("/test/echo", _echo)
    await a.invoke(b.handle, "/test/echo", {})
    assert seen == [["token-for-/test/echo"]]
    for _, _, frame in nodes.hub.sent:
        assert Envelope.from_wire(frame).signature


@pytest.mark.parametrize(("behavior", "error"), [("/test/echo", AuthError),
                                                  ("/no/such", ValidationError)])
async def test_refusals_are_answered_not_timed_out(nodes, behavior, error) -> None:
    a = await nodes.actor("peerA")
    b = await nodes.actor("peerB", authorizer=AllowList([("*", "/other")]))
    b.register("/test/echo", _echo)
    with pytest.raises(error) as ei:
        await a.invoke(b.handle, behavior, {}, timeout=60)
    assert not isinstance(ei.value, Timeout)
    assert ei.value.hint


async def test_handler_failure_is_answered(nodes) -> None:
    async def boom(msg: Message) -> object:
        raise KeyError("x")

    a = await nodes.actor("peerA")
    b = await nodes.actor("peerB")
    b.register("/test/boom", boom)
    with pytest.raises(DMSError) as ei:
        await a.invoke(b.handle, "/test/boom", {}, timeout=60)
    assert ei.value.code == "internal"


async def test_non_json_result_is_answered_as_an_error(nodes) -> None:
    async def bad(msg: Message) -> object:
        return {"x": object()}

    a = await nodes.actor("peerA")
    b = await nodes.actor("peerB")
    b.register("/test/bad", bad)
    with pytest.raises(ValidationError, match="not JSON"):
        await a.invoke(b.handle, "/test/bad", {}, timeout=60)


async def test_silence_is_a_timeout(nodes) -> None:
    a = await nodes.actor("peerA")
    b = await nodes.actor("peerB")
    b.register("/test/echo", _echo)
    env = a.envelope(b.handle, "/test/echo", {}, ttl=5, reply_to="/not/a/reply/path")
    with pytest.raises(ValidationError):
        await a.request(b.handle, env, timeout=0.2)
    nodes.hub.nets["peerB"].handler = lambda peer, data: None  # the peer goes silent
    with pytest.raises(Timeout):
        await a.invoke(b.handle, "/test/echo", {}, timeout=0.2)


async def test_replayed_request_is_refused(nodes) -> None:
    a = await nodes.actor("peerA")
    b = await nodes.actor("peerB")
    calls = []

    async def count(msg: Message) -> object:
        calls.append(1)
        return len(calls)

    b.register("/test/count", count)
    env = a.envelope(b.handle, "/test/count", {}, ttl=30, reply_to=REPLY_PREFIX + "r1" * 6)
    assert await a.request(b.handle, env) == 1
    with pytest.raises(AuthError, match="already"):
        await a.request(b.handle, env)
    assert calls == [1]


async def test_reply_from_another_did_is_ignored(nodes) -> None:
    a = await nodes.actor("peerA")
    b = await nodes.actor("peerB")
    mallory = await nodes.actor("peerM")
    b.register("/test/echo", _echo)
    nonce = "abcdefabcdef0123"
    env = a.envelope(b.handle, "/test/echo", {}, ttl=30, reply_to=REPLY_PREFIX + nonce)
    nodes.hub.nets["peerB"].handler = lambda peer, data: None  # b never answers
    async with trio.open_nursery() as n:
        async def fake_reply() -> None:
            reply = mallory.envelope(a.handle, REPLY_PREFIX + nonce, {"result": "forged"}, ttl=10)
            await mallory.router.deliver(a.handle, reply)
        n.start_soon(fake_reply)
        with pytest.raises(Timeout):
            await a.request(b.handle, env, timeout=0.3)


async def test_several_actors_share_a_peer_with_their_own_inboxes(nodes) -> None:
    a = await nodes.actor("peerA")
    root = await nodes.actor("peerB")
    child = await nodes.actor("peerB", inbox="alloc-1")
    root.register("/test/echo", _echo)
    child.register("/test/echo", _echo)
    assert child.did != root.did and child.handle.peer_id == root.handle.peer_id
    assert (await a.invoke(child.handle, "/test/echo", 1))["got"] == 1
    assert (await root.invoke(child.handle, "/test/echo", 2))["from"] == root.did  # same node
    with pytest.raises(DMSError) as ei:
        await a.invoke(child.handle.__class__(child.did, "peerB", "gone"), "/test/echo", 3,
                       timeout=60)
    assert ei.value.code == "no_such_actor"
    with pytest.raises(DMSError):
        Actor(child._key, child.router, child.authorizer, inbox="alloc-1")  # inbox taken


async def test_broadcast_hello_collects_every_answer(nodes) -> None:
    me = await nodes.actor("peer0")
    others = [await nodes.actor(f"peer{i}") for i in range(1, 4)]
    for actor in [me, *others]:
        await register_public(actor)
    answers = await hello_all(me, window=0.3)
    assert sorted(x["did"] for x in answers) == sorted(o.did for o in others)


async def test_broadcast_refusals_come_back_as_errors(nodes) -> None:
    me = await nodes.actor("peer0")
    strict = await nodes.actor("peer1", authorizer=AllowList())
    strict.register("/broadcast/private", _echo)
    await strict.subscribe(HELLO_TOPIC)
    replies = await me.broadcast_collect(HELLO_TOPIC, "/broadcast/private", {}, window=0.3)
    assert len(replies) == 1 and isinstance(replies[0].error, AuthError)
    assert BROADCAST_HELLO.startswith("/broadcast")


async def test_send_and_broadcast_deliver_without_replies(nodes) -> None:
    a = await nodes.actor("peerA")
    b = await nodes.actor("peerB")
    got = []
    done = trio.Event()

    async def record(msg: Message) -> object:
        got.append((msg.behavior, msg.payload, msg.topic))
        if len(got) == 2:
            done.set()
        return None

    b.register("/test/record", record)
    await b.subscribe("/test/topic")
    await a.send(b.handle, "/test/record", {"p": 1})
    await a.broadcast("/test/topic", "/test/record", {"p": 2})
    with trio.fail_after(5):
        await done.wait()
    assert sorted(got, key=str) == sorted([("/test/record", {"p": 1}, None),
                                           ("/test/record", {"p": 2}, "/test/topic")], key=str)
    frames = [Envelope.from_wire(f) for _, _, f in nodes.hub.sent]
    assert all(env.reply_to is None for env in frames)  # nothing asked for an answer
