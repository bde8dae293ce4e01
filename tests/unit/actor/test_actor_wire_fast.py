"""The assembled envelope body is byte for byte the generic canonical JSON."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dms.actor.wire import Envelope, Handle, _fast_body, canonical_json

pytestmark = pytest.mark.unit

_text = st.text(max_size=12)
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | _text,
    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(_text, kids, max_size=3),
    max_leaves=8)
_handles = st.builds(Handle, st.text(min_size=1, max_size=20), st.text(min_size=1, max_size=20),
                     st.text(min_size=1, max_size=8))


@settings(max_examples=300)
@given(behavior=_text, nonce=_text, sender=_handles, to=st.none() | _handles,
       expiry=st.floats(allow_nan=False, allow_infinity=False) | st.integers(),
       reply_to=st.none() | _text, topic=st.none() | _text, payload=_json,
       tokens=st.lists(_text, max_size=3))
def test_fast_body_equals_canonical_json(behavior: str, nonce: str, sender: Handle,
                                         to: Handle | None, expiry: float, reply_to: str | None,
                                         topic: str | None, payload: object,
                                         tokens: list[str]) -> None:
    env = Envelope(behavior=behavior, sender=sender, nonce=nonce, expiry=expiry, to=to,
                   reply_to=reply_to, topic=topic, payload=payload, tokens=tokens)
    assert _fast_body(env) == canonical_json(env.body())


@pytest.mark.parametrize("expiry", [math.nan, math.inf, True, "1"])
def test_unusual_fields_fall_back_to_the_generic_encoder(expiry: object) -> None:
    env = Envelope(behavior="/x", sender=Handle("d", "p"), nonce="n" * 8,
                   expiry=expiry)  # type: ignore[arg-type]
    assert _fast_body(env) is None


def test_non_json_payload_raises_like_the_generic_encoder() -> None:
    env = Envelope(behavior="/x", sender=Handle("d", "p"), nonce="n" * 8, expiry=1.0,
                   payload={"x": object()})
    with pytest.raises(TypeError):
        env.encoded_body()
