"""Interop with npm @ucans/ucans (pinned in tests/interop/package.json)."""

import time

import pytest

from dms.crypto.keys import SigningKey
from dms.errors import AuthError
from dms.ucan import (
    CapabilityContext,
    behavior_capability,
    cid_of,
    issue,
    load_verified,
    topic_capability,
)

pytestmark = [pytest.mark.functional, pytest.mark.node]

ROOT = SigningKey(bytes.fromhex("11" * 32))
ALICE = SigningKey(bytes.fromhex("22" * 32))
BOB = SigningKey(bytes.fromhex("33" * 32))


def test_js_token_verifies_in_dms(ucans_js, tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = ucans_js.issue(seed_hex=ROOT.seed().hex(), aud=ALICE.did, lifetime=300, nonce=True,
                         caps=[{"with": "dms:/dms/deployment", "can": "dms/invoke"},
                               {"with": "topic:/nunet/deployment", "can": "dms/broadcast"}])
    assert out["did"] == ROOT.did  # same seed, same did:key on both sides
    tok = load_verified(out["token"])  # signature checked
    assert tok.cid == out["cid"]       # same CID on both sides
    assert (tok.iss, tok.aud) == (ROOT.did, ALICE.did)
    assert tok.caps == (behavior_capability("/dms/deployment"),
                        topic_capability("/nunet/deployment"))
    assert tok.exp is not None and abs(tok.exp - (time.time() + 300)) < 30
    node = CapabilityContext.load(tmp_path / "n.json", ROOT)
    node.authorize(ALICE.did, "/dms/deployment/bid", [out["token"]], topic="/nunet/deployment")
    with pytest.raises(AuthError):
        node.authorize(ALICE.did, "/dms/node/status", [out["token"]])


def test_js_chain_with_cid_and_inline_proofs(ucans_js, tmp_path) -> None:  # type: ignore[no-untyped-def]
    root = ucans_js.issue(seed_hex=ROOT.seed().hex(), aud=ALICE.did, lifetime=600,
                          caps=[{"with": "dms:/dms", "can": "dms/invoke"}])
    node = CapabilityContext.load(tmp_path / "n.json", ROOT)
    for prf in (root["cid"], root["token"]):  # 0.10 CID, and 0.8-style inline JWT
        child = ucans_js.issue(seed_hex=ALICE.seed().hex(), aud=BOB.did, lifetime=300,
                               caps=[{"with": "dms:/dms/node", "can": "dms/invoke"}],
                               proofs=[prf])
        assert load_verified(child["token"]).prf == (prf,)
        node.authorize(BOB.did, "/dms/node/status", [child["token"], root["token"]])
        with pytest.raises(AuthError) as ei:
            node.authorize(BOB.did, "/dms/deployment", [child["token"], root["token"]])
        assert ei.value.details["reason"] == "missing"


def test_js_forged_token_is_refused(ucans_js, tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = ucans_js.issue(seed_hex=ROOT.seed().hex(), aud=ALICE.did,
                         caps=[{"with": "dms:/", "can": "dms/invoke"}])
    h, p, _s = out["token"].split(".")
    other = ucans_js.issue(seed_hex=ALICE.seed().hex(), aud=ALICE.did,
                           caps=[{"with": "dms:/", "can": "dms/invoke"}])
    node = CapabilityContext.load(tmp_path / "n.json", ROOT)
    with pytest.raises(AuthError) as ei:
        node.authorize(ALICE.did, "/x", [f"{h}.{p}.{other['token'].split('.')[2]}"])
    assert ei.value.details["reason"] == "bad_signature"


def test_dms_token_validates_in_js(ucans_js) -> None:  # type: ignore[no-untyped-def]
    parent = issue(ROOT, ALICE.did, [behavior_capability("/")], lifetime_s=600)
    tok = issue(ALICE, BOB.did, [behavior_capability("/dms/deployment"),
                                 topic_capability("/nunet/deployment")],
                lifetime_s=300, proofs=[parent])
    [res, res_parent] = ucans_js.validate(tok, parent)
    assert res["ok"], res
    assert res_parent["ok"], res_parent
    assert res["cid"] == cid_of(tok)
    assert res["payload"]["iss"] == ALICE.did and res["payload"]["aud"] == BOB.did
    assert res["payload"]["prf"] == [cid_of(parent)]
    assert res["payload"]["att"] == [
        {"with": "dms:/dms/deployment", "can": "dms/invoke"},
        {"with": "topic:/nunet/deployment", "can": "dms/broadcast"},
    ]


def test_js_refuses_tampered_dms_token(ucans_js) -> None:  # type: ignore[no-untyped-def]
    tok = issue(ROOT, ALICE.did, [behavior_capability("/public")])
    h, p, _s = tok.split(".")
    forged = f"{h}.{p}.{issue(ALICE, ALICE.did, [behavior_capability('/')]).split('.')[2]}"
    expired = issue(ROOT, ALICE.did, [behavior_capability("/")], exp=int(time.time()) - 10)
    [r1, r2] = ucans_js.validate(forged, expired)
    assert not r1["ok"] and "Signature invalid" in r1["error"]
    assert not r2["ok"] and "Expired" in r2["error"]
