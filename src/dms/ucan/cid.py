"""CIDs of tokens, as UCAN 0.10 specifies for ``prf``.

    cid = "b" + base32lower(0x01 (CIDv1) || 0x55 (raw) || 0x12 0x20 (sha2-256, 32) || sha256(jwt))
"""

from __future__ import annotations

import base64
import hashlib

__all__ = ["cid_of", "is_cid"]

_PREFIX = b"\x01\x55\x12\x20"


def cid_of(token: str | bytes) -> str:
    data = token.encode() if isinstance(token, str) else token
    digest = hashlib.sha256(data).digest()
    return "b" + base64.b32encode(_PREFIX + digest).decode().rstrip("=").lower()


def is_cid(s: str) -> bool:
    """A base32 CIDv1 (raw, sha2-256) as written by :func:`cid_of`."""
    if not s.startswith("b") or len(s) != 59:
        return False
    try:
        raw = base64.b32decode(s[1:].upper() + "=" * (-len(s[1:]) % 8))
    except ValueError:
        return False
    return raw.startswith(_PREFIX) and len(raw) == 36
