"""Ed25519 signing and verifying keys (PyNaCl underneath).

The raw private key (the 32-byte seed) never leaves this module except through
:meth:`SigningKey.seed`, which only the keystore calls to encrypt it at rest.
"""

from __future__ import annotations

from nacl import exceptions as nacl_exc
from nacl import signing


class VerifyKey:
    """An Ed25519 public key (32 raw bytes)."""

    __slots__ = ("_did", "_vk")

    def __init__(self, raw: bytes) -> None:
        if len(raw) != 32:
            raise ValueError(f"an Ed25519 public key is 32 bytes, got {len(raw)}")
        self._vk = signing.VerifyKey(raw)
        self._did: str | None = None

    @property
    def raw(self) -> bytes:
        return bytes(self._vk)

    def verify(self, data: bytes, signature: bytes) -> bool:
        try:
            self._vk.verify(data, signature)
        except (nacl_exc.BadSignatureError, ValueError, TypeError):
            return False
        return True

    @property
    def did(self) -> str:
        if self._did is None:  # base58 costs ~50 us: compute once
            from dms.identity.did import did_from_public_key

            self._did = did_from_public_key(self.raw)
        return self._did

    def __eq__(self, other: object) -> bool:
        return isinstance(other, VerifyKey) and other.raw == self.raw

    def __hash__(self) -> int:
        return hash(self.raw)

    def __repr__(self) -> str:
        return f"VerifyKey({self.did})"


class SigningKey:
    """An Ed25519 private key. ``repr`` never shows key material."""

    __slots__ = ("_pub", "_sk")

    def __init__(self, seed: bytes) -> None:
        if len(seed) != 32:
            raise ValueError(f"an Ed25519 seed is 32 bytes, got {len(seed)}")
        self._sk = signing.SigningKey(seed)
        self._pub = VerifyKey(bytes(self._sk.verify_key))

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(bytes(signing.SigningKey.generate()))

    def seed(self) -> bytes:
        """The 32-byte secret seed. Only for encryption at rest."""
        return bytes(self._sk)

    @property
    def public(self) -> VerifyKey:
        return self._pub

    @property
    def did(self) -> str:
        return self.public.did

    def sign(self, data: bytes) -> bytes:
        return self._sk.sign(data).signature

    def __repr__(self) -> str:
        return f"SigningKey(public={self.did})"
