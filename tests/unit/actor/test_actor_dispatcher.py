"""The dispatcher table: every check runs before any handler."""

from __future__ import annotations

import time

import pytest

from dms.actor import AllowList, Dispatcher, Message
from dms.actor.signing import sign
from dms.actor.wire import Envelope, Handle
from dms.crypto.keys import SigningKey
from dms.errors import AuthError, DMSError, ValidationError

pytestmark = pytest.mark.unit

CALLER = SigningKey.generate()
PEER = "12D3KooWN1dgELpHjgoeyXbM7BixVK3QtmYG3ia147Y1Bcx3nbzK"


def _env(behavior: str, *, nonce: str = "0123456789ab", expiry: float | None = None,
         key: SigningKey = CALLER) -> Envelope:
    env = Envelope(behavior=behavior, sender=Handle(CALLER.did, PEER), nonce=nonce,
                   expiry=expiry if expiry is not None else time.time() + 30, payload={"x": 1})
    return sign(env, key)


class Recorder:
    def __init__(self) -> None:
        self.calls: list[Message] = []

    async def __call__(self, msg: Message) -> object:
        self.calls.append(msg)
        return {"echo": msg.payload}


async def test_authorized_call_runs_the_handler() -> None:
    rec = Recorder()
    d = Dispatcher(AllowList([(CALLER.did, "/dms/node")]))
    d.register("/dms/node/peers/list", rec)
    assert await d.dispatch(_env("/dms/node/peers/list")) == {"echo": {"x": 1}}
    assert rec.calls[0].sender.did == CALLER.did


async def test_ability_defaults_to_the_behavior_path() -> None:
    d = Dispatcher(AllowList())
    d.register("/a/b", Recorder())
    d.register("/a/c", Recorder(), ability="/custom")
    d.register("/public/hello", Recorder(), public=True)
    assert d.behaviors() == {"/a/b": "/a/b", "/a/c": "/custom", "/public/hello": None}


async def test_unauthorized_caller_never_reaches_the_handler() -> None:
    rec = Recorder()
    d = Dispatcher(AllowList([(CALLER.did, "/dms/other")]))
    d.register("/dms/node/peers/list", rec)
    with pytest.raises(AuthError) as ei:
        await d.dispatch(_env("/dms/node/peers/list"))
    assert ei.value.code == "unauthorized"
    assert ei.value.hint
    assert rec.calls == []


async def test_public_behaviors_skip_only_the_capability_check() -> None:
    rec = Recorder()
    d = Dispatcher(AllowList())
    d.register("/public/hello", rec, public=True)
    await d.dispatch(_env("/public/hello"))
    with pytest.raises(AuthError, match="already"):  # replay is still refused
        await d.dispatch(_env("/public/hello"))
    with pytest.raises(AuthError):  # and so is a bad signature
        await d.dispatch(_env("/public/hello", nonce="fresh-nonce-01", key=SigningKey.generate()))
    assert len(rec.calls) == 1


async def test_unknown_behavior_is_a_validation_error() -> None:
    d = Dispatcher(AllowList([("*", "/")]))
    with pytest.raises(ValidationError) as ei:
        await d.dispatch(_env("/no/such/thing"))
    assert ei.value.details["reason"] == "unknown_behavior"


async def test_expired_is_refused_before_lookup() -> None:
    d = Dispatcher(AllowList([("*", "/")]))
    with pytest.raises(AuthError) as ei:
        await d.dispatch(_env("/no/such/thing", expiry=time.time() - 100))
    assert ei.value.details["reason"] == "expired"


async def test_handler_exception_becomes_an_internal_error_without_internals() -> None:
    async def boom(msg: Message) -> object:
        raise RuntimeError("secret internal detail")

    d = Dispatcher(AllowList([("*", "/")]))
    d.register("/x", boom)
    with pytest.raises(DMSError) as ei:
        await d.dispatch(_env("/x"))
    assert ei.value.code == "internal"
    assert "secret" not in ei.value.message


async def test_handler_dms_errors_pass_through() -> None:
    async def refuse(msg: Message) -> object:
        raise ValidationError("cores must be positive", hint="use --cpu 1 or more")

    d = Dispatcher(AllowList([("*", "/")]))
    d.register("/x", refuse)
    with pytest.raises(ValidationError, match="cores"):
        await d.dispatch(_env("/x"))


def test_behaviors_must_be_paths() -> None:
    with pytest.raises(ValidationError):
        Dispatcher(AllowList()).register("hello", Recorder())
