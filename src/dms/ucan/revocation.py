"""Revocation records, UCAN 0.10 style.

    {"iss": did, "revoke": cid, "challenge": base64url(sign(iss, "REVOKE:" + cid))}

A record is only honoured for a token whose issuer, or an issuer upstream in the
chain that proves it, is the record's ``iss`` (checked while verifying a chain).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dms.crypto.keys import SigningKey
from dms.errors import AuthError, ValidationError
from dms.ucan.cid import cid_of, is_cid
from dms.ucan.token import _b64url, _b64url_dec, _verify_key

__all__ = ["Revocation"]


def _challenge_input(cid: str) -> bytes:
    return f"REVOKE:{cid}".encode()


@dataclass(frozen=True, slots=True)
class Revocation:
    iss: str
    revoke: str
    challenge: str

    @classmethod
    def create(cls, key: SigningKey, token_or_cid: str) -> Revocation:
        cid = token_or_cid if is_cid(token_or_cid) else cid_of(token_or_cid.strip())
        return cls(key.did, cid, _b64url(key.sign(_challenge_input(cid))))

    def verify(self) -> None:
        """Raise AuthError unless the challenge is ``iss``'s signature over the CID."""
        if not is_cid(self.revoke):
            raise AuthError(f"revocation names {self.revoke!r}, which is not a token CID",
                            hint="revoke a token or its CID (bafkrei...)")
        try:
            ok = _verify_key(self.iss).verify(_challenge_input(self.revoke),
                                              _b64url_dec(self.challenge))
        except (ValidationError, ValueError):
            ok = False
        if not ok:
            raise AuthError(f"revocation of {self.revoke} has a bad signature (iss {self.iss})",
                            hint="the record was forged or altered; ignore it")

    def to_dict(self) -> dict[str, str]:
        return {"iss": self.iss, "revoke": self.revoke, "challenge": self.challenge}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Revocation:
        try:
            return cls(str(d["iss"]), str(d["revoke"]), str(d["challenge"]))
        except (KeyError, TypeError) as exc:
            raise ValidationError("malformed revocation record",
                                  hint="expected {iss, revoke, challenge}") from exc
