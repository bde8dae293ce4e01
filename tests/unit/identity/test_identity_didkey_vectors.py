"""did:key against the published Ed25519 test vectors of the did:key spec
(w3c-ccg/did-method-key, test-vectors/ed25519-x25519.json: seed -> public key -> DID)."""

import base58
import pytest

from dms.crypto.keys import SigningKey, VerifyKey
from dms.errors import ValidationError
from dms.identity.did import did_from_public_key, public_key_from_did, verify_key_from_did

pytestmark = pytest.mark.unit

# (seed hex, publicKeyBase58, did) as published
VECTORS = [
    ("00" * 32, "4zvwRjXUKGfvwnParsHAS3HuSVzV5cA4McphgmoCtajS",
     "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"),
    ("00" * 31 + "01", "6ASf5EcmmEHTgDJ4X4ZT5vT6iHVJBXPg5AN5YoTCpGWt",
     "did:key:z6MkjchhfUsD6mmvni8mCdXHw216Xrm9bQe2mBH1P5RDjVJG"),
    ("00" * 31 + "02", "8pM1DN3RiT8vbom5u1sNryaNT1nyL8CTTW3b5PwWXRBH",
     "did:key:z6MknGc3ocHs3zdPiJbnaaqDi58NGb4pk1Sp9WxWufuXSdxf"),
    ("00" * 31 + "03", "HPYVwAQmskwT1qEEeRzhoomyfyupJGASQQtCXSNG8XS2",
     "did:key:z6MkvqoYXQfDDJRv8L4wKzxYeuKyVZBfi9Qo6Ro8MiLH3kDQ"),
    ("00" * 31 + "04", "J3qYF7YJMKCqQke47UQwiHizgFUXapHxRxKmxbkar89x",
     "did:key:z6MkwW6aqMnjgrhJXFUko3NnZPGzVpkNzhYK7yEhnsibmLwL"),
]


@pytest.mark.parametrize(("seed", "pub58", "did"), VECTORS)
def test_seed_to_public_key_to_did(seed: str, pub58: str, did: str) -> None:
    sk = SigningKey(bytes.fromhex(seed))
    assert base58.b58encode(sk.public.raw).decode() == pub58
    assert sk.did == did
    assert did_from_public_key(base58.b58decode(pub58)) == did


@pytest.mark.parametrize(("seed", "pub58", "did"), VECTORS)
def test_did_decodes_to_public_key(seed: str, pub58: str, did: str) -> None:
    assert public_key_from_did(did) == base58.b58decode(pub58)
    vk = verify_key_from_did(did)
    assert isinstance(vk, VerifyKey) and vk.did == did
    sk = SigningKey(bytes.fromhex(seed))
    assert vk.verify(b"msg", sk.sign(b"msg"))
    assert not vk.verify(b"other", sk.sign(b"msg"))


@pytest.mark.parametrize("bad", [
    "did:web:example.com",                                    # other method
    "did:key:6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp",  # no multibase prefix
    "did:key:z6LShs9GGnqk85isEBzzshkuVWrVKsRp24GnDuHk8QWkARMW",  # x25519, not ed25519
    "did:key:zTjsVPtY",                                        # too short for an ed key
    "did:key:z0OIl",                                           # not base58
])
def test_invalid_dids_are_refused(bad: str) -> None:
    with pytest.raises(ValidationError):
        public_key_from_did(bad)
