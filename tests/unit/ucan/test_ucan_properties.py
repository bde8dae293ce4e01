"""Property tests: no delegation chain grants more than its root (nor than any link)."""

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dms.crypto.keys import SigningKey
from dms.errors import AuthError
from dms.ucan import Policy, authorize_chain, behavior_capability, issue
from dms.ucan.capability import Capability, covered_by

pytestmark = pytest.mark.unit

KEYS = [SigningKey(bytes([i + 1]) * 32) for i in range(6)]
SEGS = ["a", "b", "c"]
paths = st.lists(st.sampled_from(SEGS), min_size=0, max_size=3).map(lambda s: "/" + "/".join(s))
cap_sets = st.lists(paths, min_size=1, max_size=3).map(
    lambda ps: tuple(behavior_capability(p) for p in ps))

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def _build(links: list[tuple[Capability, ...]]) -> list[str]:
    """Tokens KEYS[0] -> KEYS[1] -> ... each with the given caps (anyone may over-claim)."""
    toks: list[str] = []
    for i, caps in enumerate(links):
        toks.append(issue(KEYS[i], KEYS[i + 1].did, caps, proofs=toks[-1:]))
    return toks


@SETTINGS
@given(links=st.lists(cap_sets, min_size=1, max_size=5), need=paths)
def test_no_chain_grants_more_than_its_root(links: list[tuple[Capability, ...]],
                                            need: str) -> None:
    toks = _build(links)
    want = behavior_capability(need)
    policy = Policy(roots=frozenset({KEYS[0].did}))
    try:
        authorize_chain(policy, KEYS[len(links)].did, [want], toks, time.time())
        ok = True
    except AuthError:
        ok = False
    covered_everywhere = all(covered_by(want, caps) for caps in links)
    assert ok == covered_everywhere  # sound (never more than root or any link) and complete
    if ok:
        assert covered_by(want, links[0])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(root=cap_sets, asked=st.lists(paths, min_size=1, max_size=3), need=paths)
def test_delegate_only_narrows(tmp_path_factory: pytest.TempPathFactory,
                               root: tuple[Capability, ...], asked: list[str],
                               need: str) -> None:
    from dms.ucan import CapabilityContext

    d = tmp_path_factory.mktemp("cap")
    node = CapabilityContext.load(d / "n.json", KEYS[0])
    mid = CapabilityContext.load(d / "m.json", KEYS[1])
    mid.add_provide(issue(KEYS[0], KEYS[1].did, root))
    allowed = all(covered_by(behavior_capability(a), root) for a in asked)
    try:
        tok = mid.delegate(KEYS[2].did, asked)
    except AuthError:
        assert not allowed
        return
    assert allowed
    chain = mid.chain(tok)
    want = behavior_capability(need)
    try:
        node.authorize(KEYS[2].did, need, chain)
        ok = True
    except AuthError:
        ok = False
    assert ok == (covered_by(want, root) and any(behavior_capability(a).covers(want)
                                                 for a in asked))
