"""``did:key`` for Ed25519 keys.

    did:key:z6Mk...  =  "did:key:" + "z" + base58btc(0xed 0x01 || public key)

(multicodec ``ed25519-pub`` is 0xed, varint-encoded as ``ed 01``).
"""

from __future__ import annotations

import base58

from dms.errors import ValidationError

PREFIX = "did:key:"
ED25519_PUB = b"\xed\x01"


def did_from_public_key(raw: bytes) -> str:
    if len(raw) != 32:
        raise ValidationError(f"an Ed25519 public key is 32 bytes, got {len(raw)}")
    return PREFIX + "z" + base58.b58encode(ED25519_PUB + raw).decode()


def public_key_from_did(did: str) -> bytes:
    """Decode a did:key to its raw Ed25519 public key; clear errors for anything else."""
    if not isinstance(did, str) or not did.startswith(PREFIX):
        raise ValidationError(f"not a did:key: {did!r}", hint="a did:key starts with 'did:key:z'")
    ident = did[len(PREFIX):]
    if not ident.startswith("z"):
        raise ValidationError(f"did:key {did!r} is not base58btc (multibase 'z')",
                              hint="only base58btc did:key identifiers are supported")
    try:
        data = base58.b58decode(ident[1:])
    except ValueError as exc:
        raise ValidationError(f"did:key {did!r} is not valid base58") from exc
    if not data.startswith(ED25519_PUB):
        raise ValidationError(f"did:key {did!r} is not an Ed25519 key",
                              hint="only Ed25519 (multicodec 0xed) did:keys are supported")
    raw = data[len(ED25519_PUB):]
    if len(raw) != 32:
        raise ValidationError(f"did:key {did!r} holds {len(raw)} key bytes, expected 32")
    return raw


def verify_key_from_did(did: str):  # -> VerifyKey (import cycle avoided)
    from dms.crypto.keys import VerifyKey

    return VerifyKey(public_key_from_did(did))
