"""The capability algebra: path implication, abilities, encodings."""

import pytest

from dms.errors import ValidationError
from dms.ucan.capability import (
    Capability,
    behavior_capability,
    decode_att,
    decode_cap_map,
    encode_att,
    encode_cap_map,
    requirements,
    topic_capability,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("parent", "child", "ok"), [
    ("/dms/deployment", "/dms/deployment/bid", True),
    ("/dms/deployment", "/dms/deployment", True),
    ("/dms/deployment", "/dms/deploymentX", False),
    ("/dms/deployment/bid", "/dms/deployment", False),
    ("/", "/dms/node/peers/list", True),
    ("/", "/", True),
    ("/public", "/dms/node", False),
    ("/dms/deployment/", "/dms/deployment/bid", True),
])
def test_behavior_prefix_implication(parent: str, child: str, ok: bool) -> None:
    assert behavior_capability(parent).covers(behavior_capability(child)) is ok


def test_topics_are_their_own_resource() -> None:
    t = topic_capability("/nunet/hello")
    assert t.covers(topic_capability("/nunet/hello"))
    assert not t.covers(topic_capability("/nunet/deployment"))
    assert topic_capability("/").covers(topic_capability("/nunet/deployment"))
    # a behavior grant never covers a topic, nor the reverse
    assert not behavior_capability("/").covers(topic_capability("/nunet/hello"))
    assert not topic_capability("/").covers(behavior_capability("/public/hello"))


def test_ability_wildcards_and_foreign_resources() -> None:
    need = behavior_capability("/x")
    assert Capability("dms:/", "*").covers(need)
    assert Capability("dms:/", "dms/*").covers(need)
    assert not Capability("dms:/", "crud/*").covers(need)
    assert Capability("mailto:a@b", "msg/send").covers(Capability("mailto:a@b", "msg/send"))
    assert not Capability("mailto:a@b", "msg/send").covers(Capability("mailto:a@bc", "msg/send"))


def test_bad_paths_are_refused() -> None:
    for bad in ("dms/deployment", "/a/../b", ""):
        with pytest.raises(ValidationError):
            behavior_capability(bad)
    # a token may carry a dotted path; it never matches anything
    assert not Capability("dms:/a/..", "dms/invoke").covers(behavior_capability("/a/b"))


def test_requirements() -> None:
    assert requirements("/public/hello") == (behavior_capability("/public/hello"),)
    assert requirements("/broadcast/hello", "/nunet/hello") == (
        behavior_capability("/broadcast/hello"), topic_capability("/nunet/hello"))


def test_encodings_roundtrip() -> None:
    caps = (behavior_capability("/dms/x"), topic_capability("/t"))
    assert decode_cap_map(encode_cap_map(caps)) == caps
    assert decode_att(encode_att(caps)) == caps
    assert encode_cap_map(caps) == {"dms:/dms/x": {"dms/invoke": [{}]},
                                    "topic:/t": {"dms/broadcast": [{}]}}


def test_caveated_entries_are_ignored() -> None:
    caps = decode_cap_map({"dms:/a": {"dms/invoke": [{"max": 1}]}, "dms:/b": {"dms/invoke": [{}]}})
    assert caps == (behavior_capability("/b"),)
    with pytest.raises(ValueError):
        decode_cap_map({"dms:/a": ["dms/invoke"]})
