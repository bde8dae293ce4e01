"""Envelope encoding, signatures, expiry and the replay window (pure)."""

from __future__ import annotations

import json
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dms.actor.signing import NonceCache, sign, verify, verify_signature
from dms.actor.wire import DOMAIN, SIG_LEN, Envelope, Handle, canonical_json
from dms.crypto.keys import SigningKey
from dms.errors import AuthError, ValidationError

pytestmark = pytest.mark.unit

KEY = SigningKey(bytes(range(32)))
PEER = "12D3KooWN1dgELpHjgoeyXbM7BixVK3QtmYG3ia147Y1Bcx3nbzK"


def _env(**kw: object) -> Envelope:
    fields: dict[str, object] = dict(behavior="/public/hello", sender=Handle(KEY.did, PEER),
                                     nonce="00112233445566778899aabb", expiry=time.time() + 60,
                                     to=Handle(KEY.did, PEER, "alloc-1"), payload={"b": 1, "a": [1, 2]})
    fields.update(kw)
    return sign(Envelope(**fields), KEY)  # type: ignore[arg-type]


def test_canonical_json_sorts_keys_and_is_compact() -> None:
    assert canonical_json({"b": 1, "a": {"d": "é", "c": 2}}) == '{"a":{"c":2,"d":"é"},"b":1}'.encode()
    with pytest.raises(ValueError):
        canonical_json({"x": float("nan")})


def test_signed_bytes_are_domain_separated_canonical_body() -> None:
    env = _env()
    assert env.signing_bytes() == DOMAIN + canonical_json(env.body())
    assert KEY.public.verify(env.signing_bytes(), env.signature)
    # the same body without the domain prefix does not verify
    assert not KEY.public.verify(canonical_json(env.body()), env.signature)


def test_wire_round_trip_keeps_every_field() -> None:
    env = _env(reply_to="/dms/actor/reply/abc", topic="/nunet/hello", tokens=["t1", "t2"])
    back = Envelope.from_wire(env.to_wire())
    assert back.body() == env.body()
    assert back.signature == env.signature
    verify_signature(back)


def test_tampered_payload_is_refused() -> None:
    wire = bytearray(_env(payload={"amount": 1}).to_wire())
    i = wire.index(b'"amount":1')
    wire[i + len('"amount":')] = ord("9")
    back = Envelope.from_wire(bytes(wire))
    assert back.payload == {"amount": 9}
    with pytest.raises(AuthError) as ei:
        verify_signature(back)
    assert ei.value.details["reason"] == "bad_signature"


def test_forged_sender_is_refused() -> None:
    other = SigningKey.generate()
    env = sign(Envelope(behavior="/x", sender=Handle(KEY.did, PEER), nonce="n" * 12,
                        expiry=time.time() + 60), other)  # claims KEY's DID, signed by other
    with pytest.raises(AuthError) as ei:
        verify_signature(Envelope.from_wire(env.to_wire()))
    assert ei.value.details["reason"] == "bad_signature"


def test_unsigned_envelope_cannot_be_sent() -> None:
    env = Envelope(behavior="/x", sender=Handle(KEY.did, PEER), nonce="n" * 12, expiry=1.0)
    with pytest.raises(ValidationError):
        env.to_wire()


@pytest.mark.parametrize("wire", [b"", b"\x02" + b"\0" * 80, b"\x01" + b"\0" * SIG_LEN + b"[1]",
                                  b"\x01" + b"\0" * SIG_LEN + b"not json"])
def test_malformed_wire_is_a_validation_error(wire: bytes) -> None:
    with pytest.raises(ValidationError):
        Envelope.from_wire(wire)


def test_missing_field_is_named() -> None:
    body = _env().body()
    del body["nonce"]
    with pytest.raises(ValidationError, match="nonce"):
        Envelope.from_wire(b"\x01" + b"\0" * SIG_LEN + json.dumps(body).encode())


def test_expired_envelope_is_refused() -> None:
    with pytest.raises(AuthError) as ei:
        verify(_env(expiry=time.time() - 60), NonceCache())
    assert ei.value.details["reason"] == "expired"


def test_expiry_beyond_the_window_is_refused() -> None:
    with pytest.raises(AuthError) as ei:
        verify(_env(expiry=time.time() + 3600), NonceCache(max_ttl=300))
    assert ei.value.details["reason"] == "expiry_too_far"


def test_replay_is_refused_within_the_window() -> None:
    cache = NonceCache()
    env = _env()
    verify(env, cache)
    with pytest.raises(AuthError) as ei:
        verify(Envelope.from_wire(env.to_wire()), cache)
    assert ei.value.details["reason"] == "replayed"
    verify(_env(nonce="another-nonce-0001"), cache)  # a fresh nonce passes


def test_nonce_cache_forgets_expired_entries_and_stays_bounded() -> None:
    cache = NonceCache(max_ttl=300, max_entries=50)
    now = 1_000_000.0
    for i in range(200):
        cache.check(_env(nonce=f"nonce-{i:08d}", expiry=now + 10), now=now)
    assert len(cache) <= 51
    cache.check(_env(nonce="late-nonce-0001", expiry=now + 100), now=now + 50)
    assert len(cache) == 1  # everything that expired before now+50 is gone


@given(payload=st.recursive(st.none() | st.booleans() | st.integers() | st.text()
                            | st.floats(allow_nan=False, allow_infinity=False),
                            lambda c: st.lists(c, max_size=4)
                            | st.dictionaries(st.text(max_size=8), c, max_size=4), max_leaves=20))
def test_any_json_payload_round_trips_and_verifies(payload: object) -> None:
    env = _env(payload=payload)
    back = Envelope.from_wire(env.to_wire())
    verify_signature(back)
    assert canonical_json(back.body()) == env.encoded_body()
