"""Token issue/parse/signature, CIDs, revocation records."""

import base64
import json

import pytest

from dms.crypto.keys import SigningKey
from dms.errors import AuthError, ValidationError
from dms.ucan import Revocation, behavior_capability, cid_of, is_cid, issue, load_verified, parse
from dms.ucan.token import VERIFIED, verify_signature

pytestmark = pytest.mark.unit


def _b64(obj: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def _dec(part: str) -> dict:  # type: ignore[type-arg]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def test_issue_shape() -> None:
    k, aud = SigningKey.generate(), SigningKey.generate().did
    raw = issue(k, aud, [behavior_capability("/dms/deployment")], lifetime_s=60, nbf=100,
                proofs=["bafkreihc4753vbtxzzydx5q4x5h2ewfosqhpda5gdwlkxtjah743owz24i"], now=1000)
    h, p, _ = raw.split(".")
    assert _dec(h) == {"alg": "EdDSA", "typ": "JWT", "ucv": "0.10.0"}
    payload = _dec(p)
    assert payload["ucv"] == "0.10.0" and payload["iss"] == k.did and payload["aud"] == aud
    assert payload["nbf"] == 100 and payload["exp"] == 1060 and isinstance(payload["nnc"], str)
    assert payload["cap"] == {"dms:/dms/deployment": {"dms/invoke": [{}]}}
    assert payload["att"] == [{"with": "dms:/dms/deployment", "can": "dms/invoke"}]
    assert payload["prf"] == ["bafkreihc4753vbtxzzydx5q4x5h2ewfosqhpda5gdwlkxtjah743owz24i"]
    tok = load_verified(raw)
    assert tok.caps == (behavior_capability("/dms/deployment"),) and tok.cid == cid_of(raw)


def test_jwt_proofs_become_cids() -> None:
    k = SigningKey.generate()
    parent = issue(k, k.did, [behavior_capability("/")])
    child = parse(issue(k, k.did, [behavior_capability("/a")], proofs=[parent]))
    assert child.prf == (cid_of(parent),)


def test_cid_format() -> None:
    c = cid_of("abc")
    # CIDv1 raw sha2-256 in base32 always starts with bafkrei
    assert c.startswith("bafkrei") and len(c) == 59 and is_cid(c)
    assert not is_cid("Qm" + c[2:]) and not is_cid(c[:-1])


def test_forged_signature_is_refused() -> None:
    k, mallory = SigningKey.generate(), SigningKey.generate()
    raw = issue(mallory, mallory.did, [behavior_capability("/")])
    h, p, s = raw.split(".")
    payload = _dec(p)
    payload["iss"] = k.did  # claim someone else issued it
    forged = f"{h}.{_b64(payload)}.{s}"
    assert not verify_signature(parse(forged))
    with pytest.raises(AuthError, match="bad signature"):
        load_verified(forged)


def test_tampered_payload_is_refused() -> None:
    k = SigningKey.generate()
    raw = issue(k, k.did, [behavior_capability("/public")])
    h, p, s = raw.split(".")
    payload = _dec(p)
    payload["cap"] = {"dms:/": {"dms/invoke": [{}]}}
    with pytest.raises(AuthError, match="bad signature"):
        load_verified(f"{h}.{_b64(payload)}.{s}")


def test_cache_does_not_hide_bad_tokens() -> None:
    VERIFIED.clear()
    k = SigningKey.generate()
    raw = issue(k, k.did, [behavior_capability("/")])
    assert load_verified(raw) is load_verified(raw)  # cached
    bad = raw[:-4] + ("AAAA" if not raw.endswith("AAAA") else "BBBB")
    for _ in range(2):
        with pytest.raises(AuthError):
            load_verified(bad)


@pytest.mark.parametrize("bad", ["", "a.b", "x.y.z", f"{_b64({'alg': 'HS256'})}.{_b64({})}.sig",
                                 f"{_b64({'alg': 'EdDSA'})}.{_b64({'ucv': '0.10.0'})}.sig"])
def test_malformed(bad: str) -> None:
    with pytest.raises(ValidationError):
        parse(bad)


def test_audience_must_be_did_key() -> None:
    with pytest.raises(ValidationError):
        issue(SigningKey.generate(), "did:web:x", [behavior_capability("/")])


def test_revocation_record() -> None:
    k = SigningKey.generate()
    raw = issue(k, k.did, [behavior_capability("/")])
    rev = Revocation.create(k, raw)
    assert rev.revoke == cid_of(raw) and rev.iss == k.did
    rev.verify()
    assert Revocation.from_dict(rev.to_dict()) == rev
    assert Revocation.create(k, cid_of(raw)).revoke == rev.revoke
    forged = Revocation(SigningKey.generate().did, rev.revoke, rev.challenge)
    with pytest.raises(AuthError, match="bad signature"):
        forged.verify()
    with pytest.raises(AuthError, match="not a token CID"):
        Revocation(k.did, "nope", rev.challenge).verify()
