"""CapabilityContext: anchors, grant/delegate, authorize, proofs_for, revocation."""

import json
import os
import stat
import time
from pathlib import Path

import pytest

from dms.crypto.keys import SigningKey
from dms.errors import AuthError, ConfigError, ValidationError
from dms.ucan import (
    CapabilityContext,
    behavior_capability,
    cid_of,
    issue,
    parse,
)

pytestmark = pytest.mark.unit


def _reason(exc: pytest.ExceptionInfo[AuthError]) -> str:
    return str(exc.value.details["reason"])


def test_root_caller_needs_no_token(node, alice) -> None:  # type: ignore[no-untyped-def]
    node.authorize(node.did, "/dms/anything", [])
    with pytest.raises(AuthError) as ei:
        node.authorize(alice.did, "/public/hello", [])
    assert "/public/hello" in ei.value.message and "dms cap grant" in ei.value.hint
    node.add_root(alice.did)
    node.authorize(alice.did, "/dms/anything", [])


def test_grant_then_authorize(node, alice) -> None:  # type: ignore[no-untyped-def]
    tok = node.grant(alice.did, ["/dms/deployment"], ["/nunet/deployment"])
    node.authorize(alice.did, "/dms/deployment/bid", [tok])
    node.authorize(alice.did, "/dms/deployment/bid", [tok], topic="/nunet/deployment")
    with pytest.raises(AuthError) as ei:
        node.authorize(alice.did, "/dms/deploymentX", [tok])
    assert _reason(ei) == "missing" and ei.value.details["ability"] == "/dms/deploymentX"
    with pytest.raises(AuthError) as ei:
        node.authorize(alice.did, "/dms/deployment/bid", [tok], topic="/nunet/hello")
    assert ei.value.details["ability"] == "topic /nunet/hello"


def test_wrong_audience(node, alice, bob) -> None:  # type: ignore[no-untyped-def]
    tok = node.grant(alice.did, ["/"])
    with pytest.raises(AuthError) as ei:
        node.authorize(bob.did, "/public/hello", [tok])  # bob presents alice's token
    assert _reason(ei) == "missing"


def _chain(node, alice, bob, *abilities: str) -> list[str]:  # type: ignore[no-untyped-def]
    alice.add_provide(node.grant(alice.did, ["/dms/deployment"]))
    t = alice.delegate(bob.did, list(abilities))
    bob.add_provide(t, alice.chain(t)[1:])
    return bob.proofs_for(node.did, abilities[0])


def test_delegation_chain(node, alice, bob) -> None:  # type: ignore[no-untyped-def]
    proofs = _chain(node, alice, bob, "/dms/deployment/bid")
    assert len(proofs) == 2
    node.authorize(bob.did, "/dms/deployment/bid", proofs)
    with pytest.raises(AuthError) as ei:
        node.authorize(bob.did, "/dms/deployment/commit", proofs)
    assert _reason(ei) == "missing"
    # without the middle link the chain does not reach a root
    with pytest.raises(AuthError) as ei:
        node.authorize(bob.did, "/dms/deployment/bid", proofs[:1])
    assert _reason(ei) == "proof_missing"


def test_delegate_refuses_what_it_was_not_granted(node, alice, bob) -> None:  # type: ignore[no-untyped-def]
    alice.add_provide(node.grant(alice.did, ["/dms/deployment"]))
    with pytest.raises(AuthError, match="cannot delegate /dms/node") as ei:
        alice.delegate(bob.did, ["/dms/deployment/bid", "/dms/node"])
    assert ei.value.details["ability"] == "/dms/node"


def test_broadened_delegation_is_rejected(node, alice, bob) -> None:  # type: ignore[no-untyped-def]
    granted = node.grant(alice.did, ["/dms/deployment/bid"])
    # alice hand-crafts a token claiming more than her proof grants
    wide = issue(alice.key, bob.did, [behavior_capability("/")], proofs=[granted])
    node.authorize(bob.did, "/dms/deployment/bid", [wide, granted])  # the granted part holds
    with pytest.raises(AuthError) as ei:
        node.authorize(bob.did, "/dms/node/status", [wide, granted])
    assert _reason(ei) == "broadened"


def test_untrusted_root(node, alice, bob) -> None:  # type: ignore[no-untyped-def]
    tok = alice.grant(bob.did, ["/"])
    with pytest.raises(AuthError) as ei:
        node.authorize(bob.did, "/public/hello", [tok])
    assert _reason(ei) == "untrusted_root" and "--root" in ei.value.hint
    node.add_root(alice.did)
    node.authorize(bob.did, "/public/hello", [tok])


def test_require_anchor_accepts_chains_rooted_at_its_audience(node, make_ctx) -> None:  # type: ignore[no-untyped-def]
    org, member = make_ctx("org"), make_ctx("member")
    # the node's own key says: chains rooted at org are fine, for /public only
    node.add_require(node.grant(org.did, ["/public"]))
    tok = org.grant(member.did, ["/"])
    node.authorize(member.did, "/public/hello", [tok])
    with pytest.raises(AuthError) as ei:
        node.authorize(member.did, "/dms/node/status", [tok])
    assert _reason(ei) == "broadened"


def test_expired_and_not_yet_valid(node, alice) -> None:  # type: ignore[no-untyped-def]
    now = time.time()
    old = issue(node.key, alice.did, [behavior_capability("/")], exp=int(now - 120))
    with pytest.raises(AuthError) as ei:
        node.authorize(alice.did, "/x", [old])
    assert _reason(ei) == "expired"
    future = issue(node.key, alice.did, [behavior_capability("/")], nbf=int(now + 600))
    with pytest.raises(AuthError) as ei:
        node.authorize(alice.did, "/x", [future])
    assert _reason(ei) == "not_yet_valid"
    # within the clock skew allowance both are fine
    node.authorize(alice.did, "/x", [issue(node.key, alice.did, [behavior_capability("/")],
                                           exp=int(now - 5))])


def test_child_outliving_its_proof(node, alice, bob) -> None:  # type: ignore[no-untyped-def]
    now = time.time()
    parent = issue(node.key, alice.did, [behavior_capability("/")], exp=int(now + 60))
    child = issue(alice.key, bob.did, [behavior_capability("/")], exp=int(now + 3600),
                  proofs=[parent])
    with pytest.raises(AuthError) as ei:
        node.authorize(bob.did, "/x", [child, parent])
    assert _reason(ei) == "outlives_proof"


def test_delegate_clips_lifetime_to_proofs(node, alice, bob) -> None:  # type: ignore[no-untyped-def]
    alice.add_provide(node.grant(alice.did, ["/"], expiry_s=100))
    t = alice.delegate(bob.did, ["/x"], expiry_s=10_000)
    assert parse(t).exp is not None and parse(t).exp <= time.time() + 101


def test_forged_token_in_chain(node, alice) -> None:  # type: ignore[no-untyped-def]
    mallory = SigningKey.generate()
    forged = issue(mallory, alice.did, [behavior_capability("/")])
    h, p, _ = forged.split(".")
    real_sig = node.grant(alice.did, ["/"]).split(".")[2]
    with pytest.raises(AuthError) as ei:
        node.authorize(alice.did, "/x", [f"{h}.{p}.{real_sig}"])
    assert _reason(ei) == "bad_signature"


def test_depth_limit(make_ctx) -> None:  # type: ignore[no-untyped-def]
    keys = [SigningKey.generate() for _ in range(6)]
    root = make_ctx("root", keys[0])
    toks: list[str] = []
    prev = None
    for i in range(5):  # 5 links root -> k1 -> ... -> k5
        toks.append(issue(keys[i], keys[i + 1].did, [behavior_capability("/")],
                          proofs=[prev] if prev else []))
        prev = toks[-1]
    root.authorize(keys[5].did, "/x", toks)
    shallow = CapabilityContext.load(root.path, root.key, max_depth=4)
    with pytest.raises(AuthError) as ei:
        shallow.authorize(keys[5].did, "/x", toks)
    assert _reason(ei) == "depth"


def test_per_token_depth(node, alice, bob, make_ctx) -> None:  # type: ignore[no-untyped-def]
    carol = make_ctx("carol")
    alice.add_provide(node.grant(alice.did, ["/"], depth=1))
    t = alice.delegate(bob.did, ["/x"])
    bob.add_provide(t, alice.chain(t)[1:])
    node.authorize(bob.did, "/x", bob.proofs_for(node.did, "/x"))  # one link below: fine
    t2 = bob.delegate(carol.did, ["/x"])
    carol.add_provide(t2, bob.chain(t2)[1:])
    with pytest.raises(AuthError) as ei:
        node.authorize(carol.did, "/x", carol.proofs_for(node.did, "/x"))
    assert _reason(ei) == "depth"


def test_revocation(node, alice, bob) -> None:  # type: ignore[no-untyped-def]
    proofs = _chain(node, alice, bob, "/dms/deployment/bid")
    node.authorize(bob.did, "/dms/deployment/bid", proofs)
    [middle] = [t for t in proofs if parse(t).iss == alice.did]
    rev = alice.revoke(middle)  # alice revokes what she delegated to bob
    assert node.apply_revocation(rev.to_dict()) is True
    assert node.apply_revocation(rev) is False  # already known
    with pytest.raises(AuthError) as ei:
        node.authorize(bob.did, "/dms/deployment/bid", proofs)
    assert _reason(ei) == "revoked"
    # persisted
    again = CapabilityContext.load(node.path, node.key)
    with pytest.raises(AuthError):
        again.authorize(bob.did, "/dms/deployment/bid", proofs)


def test_revocation_by_a_stranger_is_ignored(node, alice) -> None:  # type: ignore[no-untyped-def]
    tok = node.grant(alice.did, ["/"])
    stranger = CapabilityContext.load(node.path.with_name("s.json"), SigningKey.generate())
    node.apply_revocation(stranger.revoke(tok))  # valid signature, but not in the chain
    node.authorize(alice.did, "/x", [tok])
    node.apply_revocation(node.revoke(cid_of(tok)))
    with pytest.raises(AuthError):
        node.authorize(alice.did, "/x", [tok])


def test_forged_revocation_is_refused(node, alice) -> None:  # type: ignore[no-untyped-def]
    tok = node.grant(alice.did, ["/"])
    rev = alice.revoke(tok).to_dict()
    rev["iss"] = node.did
    with pytest.raises(AuthError, match="bad signature"):
        node.apply_revocation(rev)
    node.authorize(alice.did, "/x", [tok])


def test_proofs_for_topic_and_missing(node, alice) -> None:  # type: ignore[no-untyped-def]
    beh = node.grant(alice.did, ["/broadcast"])
    top = node.grant(alice.did, [], ["/nunet/hello"])
    alice.add_provide(beh)
    alice.add_provide(top)
    got = alice.proofs_for(node.did, "/broadcast/hello", "/nunet/hello")
    assert set(got) == {beh, top}
    node.authorize(alice.did, "/broadcast/hello", got, topic="/nunet/hello")
    assert alice.proofs_for(node.did, "/dms/node/status") == []


def test_persistence_and_anchors(node, alice, bob) -> None:  # type: ignore[no-untyped-def]
    node.add_root(bob.did)
    req = node.grant(alice.did, ["/public"])
    node.add_require(req)
    alice.add_provide(req)
    with pytest.raises(ValidationError, match="addressed to"):
        bob.add_provide(req)
    again = CapabilityContext.load(node.path, node.key)
    kinds = [(a.kind, a.value) for a in again.list_anchors()]
    assert ("root", node.did) in kinds and ("root", bob.did) in kinds and ("require", req) in kinds
    assert again.remove_anchor("require", cid_of(req)) and not again.remove_anchor("require", req)
    assert again.remove_anchor("root", bob.did)
    assert [a.kind for a in CapabilityContext.load(node.path, node.key).list_anchors()] == ["root"]
    assert stat.S_IMODE(os.stat(node.path).st_mode) == 0o600
    assert [a.abilities for a in alice.list_anchors() if a.kind == "provide"] == [("/public",)]


def test_context_belongs_to_its_key(node) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match="belongs to"):
        CapabilityContext.load(node.path, SigningKey.generate())


def test_tampered_context_file(node, alice) -> None:  # type: ignore[no-untyped-def]
    node.add_require(node.grant(alice.did, ["/"]))
    doc = json.loads(Path(node.path).read_text())
    doc["require"][0] = doc["require"][0][:-4] + "AAAA"
    Path(node.path).write_text(json.dumps(doc))
    with pytest.raises(ConfigError, match="unreadable"):
        CapabilityContext.load(node.path, node.key)


def test_bundle_add(node, alice, bob) -> None:  # type: ignore[no-untyped-def]
    alice.add_provide(node.grant(alice.did, ["/"]))
    t = alice.delegate(bob.did, ["/x"])
    bob.add_provide(",".join(alice.chain(t)))
    node.authorize(bob.did, "/x/y", bob.proofs_for(node.did, "/x/y"))
    assert bob.list_anchors()[-1].abilities == ("/x",)


def test_two_processes_share_the_file(node, alice, bob) -> None:  # type: ignore[no-untyped-def]
    other = CapabilityContext.load(node.path, node.key)  # e.g. the CLI beside the daemon
    other.add_root(alice.did)
    node.add_root(bob.did)  # read-modify-write: alice's root survives
    node.refresh(force=True)
    other.refresh(force=True)
    for ctx in (node, other):
        ctx.authorize(alice.did, "/x", [])
        ctx.authorize(bob.did, "/x", [])
    tok = node.grant(alice.did, ["/"])
    other.apply_revocation(node.revoke(tok).to_dict())
    assert node.refresh(force=True) is False  # nothing new since its own write
    other.authorize(alice.did, "/x", [tok])  # alice is still a root there
    node.remove_anchor("root", alice.did)
    other.refresh(force=True)
    with pytest.raises(AuthError) as ei:
        other.authorize(alice.did, "/x", [tok])
    assert _reason(ei) == "revoked"


def test_too_many_tokens(node, alice) -> None:  # type: ignore[no-untyped-def]
    toks = [node.grant(alice.did, ["/a"]) for _ in range(65)]
    with pytest.raises(AuthError, match="more than the limit"):
        node.authorize(alice.did, "/a", toks)


def test_wide_proof_graph_is_walked_once(make_ctx) -> None:  # type: ignore[no-untyped-def]
    # each level references every token of the level above: 4^6 paths, 24 tokens
    keys = [SigningKey.generate() for _ in range(7)]
    root = make_ctx("root", keys[0])
    levels: list[list[str]] = [[issue(keys[0], keys[1].did, [behavior_capability("/")])
                                for _ in range(4)]]
    for i in range(1, 6):
        levels.append([issue(keys[i], keys[i + 1].did, [behavior_capability("/a")],
                             proofs=levels[-1]) for _ in range(4)])
    # the root grants only /a/b... no: the top grants /, every lower link /a; ask for /z
    toks = [t for lvl in levels for t in lvl]
    with pytest.raises(AuthError) as ei:
        root.authorize(keys[6].did, "/z", toks)
    assert _reason(ei) == "missing"
    root.authorize(keys[6].did, "/a/b", toks)
