"""UCAN JWTs: issue, parse, check signatures (EdDSA over did:key, PyNaCl underneath).

What dms writes (UCAN 0.10 with two compatibility fields, see README.md):

    header  {"alg": "EdDSA", "typ": "JWT", "ucv": "0.10.0"}
    payload {"ucv": "0.10.0", "iss", "aud", "nbf"?, "exp", "nnc"?, "fct"?,
             "cap": {resource: {ability: [{}]}},      # 0.10
             "att": [{"with": resource, "can": ability}],  # 0.8/0.9 mirror for @ucans/ucans
             "prf": [cid, ...]}

What dms reads: the above, 0.10 tokens without the mirror, and @ucans/ucans 0.8/0.9
tokens (``ucv`` in the header, ``att`` only, ``prf`` as CIDs or inline JWTs).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from dms.crypto.keys import SigningKey, VerifyKey
from dms.errors import AuthError, ValidationError
from dms.identity.did import verify_key_from_did
from dms.ucan.capability import Capability, decode_att, decode_cap_map, encode_att, encode_cap_map
from dms.ucan.cid import cid_of

__all__ = ["UCAN_VERSION", "Token", "issue", "load_verified", "parse", "verify_signature"]

UCAN_VERSION = "0.10.0"
DEPTH_FACT = "dms/depth"  # fct key: how many more delegation links may follow this token


def _b64url(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def _b64url_dec(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def _json(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True, slots=True)
class Token:
    """A parsed token. ``raw`` is the JWT; ``cid`` its CID; nothing here is verified."""

    raw: str
    cid: str
    header: Mapping[str, Any]
    payload: Mapping[str, Any]
    iss: str
    aud: str
    nbf: int | None
    exp: int | None
    caps: tuple[Capability, ...]
    prf: tuple[str, ...]
    max_depth: int | None

    @property
    def signed_part(self) -> bytes:
        return self.raw.rsplit(".", 1)[0].encode()

    @property
    def signature(self) -> bytes:
        return _b64url_dec(self.raw.rsplit(".", 1)[1])

    def is_time_valid(self, now: float, skew_s: float = 0) -> bool:
        return self.time_problem(now, skew_s) is None

    def time_problem(self, now: float, skew_s: float = 0) -> str | None:
        if self.exp is not None and self.exp <= now - skew_s:
            return "expired"
        if self.nbf is not None and self.nbf > now + skew_s:
            return "not yet valid"
        return None


def issue(key: SigningKey, audience: str, caps: Iterable[Capability], *,
          lifetime_s: float = 3600, exp: int | None = None, nbf: int | None = None,
          proofs: Sequence[str] = (), nonce: bool = True, max_depth: int | None = None,
          facts: Mapping[str, Any] | None = None, att_mirror: bool = True,
          now: float | None = None) -> str:
    """Sign a new token from ``key`` to ``audience``. ``proofs`` are CIDs (or JWTs,
    which are replaced by their CIDs)."""
    verify_key_from_did(audience)  # fails with a clear ValidationError if not a did:key
    caps = tuple(caps)
    t = time.time() if now is None else now
    payload: dict[str, Any] = {"ucv": UCAN_VERSION, "iss": key.did, "aud": audience}
    if nbf is not None:
        payload["nbf"] = int(nbf)
    payload["exp"] = int(exp if exp is not None else t + lifetime_s)
    if nonce:
        payload["nnc"] = _b64url(os.urandom(12))
    fct = dict(facts or {})
    if max_depth is not None:
        if max_depth < 0:
            raise ValidationError("depth must be >= 0", hint="0 forbids any re-delegation")
        fct[DEPTH_FACT] = int(max_depth)
    if fct:
        payload["fct"] = fct
    payload["cap"] = encode_cap_map(caps)
    if att_mirror:
        payload["att"] = encode_att(caps)
    payload["prf"] = [p if "." not in p else cid_of(p) for p in proofs]
    header = {"alg": "EdDSA", "typ": "JWT", "ucv": UCAN_VERSION}
    signing_input = _b64url(_json(header)) + "." + _b64url(_json(payload))
    sig = key.sign(signing_input.encode())
    return signing_input + "." + _b64url(sig)


def _bad(msg: str) -> ValidationError:
    return ValidationError(f"malformed UCAN: {msg}",
                           hint="the token must be a UCAN JWT (header.payload.signature)")


def _opt_int(v: Any, name: str) -> int | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise _bad(f"{name} must be a number")
    return int(v)


def parse(raw: str) -> Token:
    """Decode a token without checking its signature or time bounds."""
    if not isinstance(raw, str):
        raise _bad("not a string")
    raw = raw.strip()
    parts = raw.split(".")
    if len(parts) != 3:
        raise _bad("expected 3 dot-separated parts")
    try:
        header = json.loads(_b64url_dec(parts[0]))
        payload = json.loads(_b64url_dec(parts[1]))
        _b64url_dec(parts[2])
    except (ValueError, UnicodeDecodeError) as exc:
        raise _bad("undecodable base64url or JSON") from exc
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise _bad("header and payload must be JSON objects")
    if header.get("alg") != "EdDSA":
        raise _bad(f"unsupported alg {header.get('alg')!r} (only EdDSA)")
    ucv = payload.get("ucv", header.get("ucv"))
    if not isinstance(ucv, str) or not ucv.startswith("0."):
        raise _bad(f"unsupported UCAN version {ucv!r}")
    iss, aud = payload.get("iss"), payload.get("aud")
    if not isinstance(iss, str) or not isinstance(aud, str):
        raise _bad("iss and aud must be DID strings")
    try:
        if isinstance(payload.get("cap"), dict):
            caps = decode_cap_map(payload["cap"])
        elif isinstance(payload.get("att"), list):
            caps = decode_att(payload["att"])
        else:
            raise _bad("no capabilities (cap or att)")
    except ValueError as exc:
        raise _bad(str(exc)) from exc
    prf = payload.get("prf", [])
    if not isinstance(prf, list) or not all(isinstance(p, str) for p in prf):
        raise _bad("prf must be a list of strings")
    max_depth = None
    fct = payload.get("fct")
    if isinstance(fct, dict) and DEPTH_FACT in fct:
        max_depth = _opt_int(fct[DEPTH_FACT], DEPTH_FACT)
    return Token(raw=raw, cid=cid_of(raw), header=header, payload=payload, iss=iss, aud=aud,
                 nbf=_opt_int(payload.get("nbf"), "nbf"), exp=_opt_int(payload.get("exp"), "exp"),
                 caps=caps, prf=tuple(prf), max_depth=max_depth)


@lru_cache(maxsize=1024)
def _verify_key(did: str) -> VerifyKey:
    return verify_key_from_did(did)


def verify_signature(tok: Token) -> bool:
    try:
        vk = _verify_key(tok.iss)
    except ValidationError:
        return False
    try:
        sig = tok.signature
    except ValueError:
        return False
    return vk.verify(tok.signed_part, sig)


class _LRU:
    """A small bounded LRU of signature-verified tokens, keyed by the raw JWT."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._d: OrderedDict[str, Token] = OrderedDict()

    def get(self, raw: str) -> Token | None:
        tok = self._d.get(raw)
        if tok is not None:
            with contextlib.suppress(KeyError):  # evicted meanwhile by another thread
                self._d.move_to_end(raw)
        return tok

    def put(self, tok: Token) -> None:
        self._d[tok.raw] = tok
        while len(self._d) > self.size:
            try:
                self._d.popitem(last=False)
            except KeyError:  # emptied meanwhile by another thread
                break

    def clear(self) -> None:
        self._d.clear()

    def __len__(self) -> int:
        return len(self._d)


VERIFIED = _LRU(4096)  # signature checked
PARSED = _LRU(4096)    # parsed only


def parse_cached(raw: str) -> Token:
    """:func:`parse`, remembering recent tokens (verified or not)."""
    tok = VERIFIED.get(raw) or PARSED.get(raw)
    if tok is None:
        tok = parse(raw)
        PARSED.put(tok)
    return tok


def ensure_verified(tok: Token) -> bool:
    """Check ``tok``'s signature once; verified tokens are remembered (bounded LRU)."""
    if VERIFIED.get(tok.raw) is not None:
        return True
    if not verify_signature(tok):
        return False
    VERIFIED.put(tok)
    return True


def load_verified(raw: str) -> Token:
    """Parse ``raw`` and check its signature, once: a verified token is cached (LRU) so
    a repeated chain costs a dictionary lookup. Raises AuthError on a bad signature."""
    raw = raw.strip()
    tok = VERIFIED.get(raw)
    if tok is not None:
        return tok
    tok = parse_cached(raw)
    if not ensure_verified(tok):
        raise AuthError(f"token {tok.cid} has a bad signature (issuer {tok.iss})",
                        hint="the token was forged or altered; ask its issuer for a new one",
                        details={"reason": "bad_signature", "cid": tok.cid})
    return tok
