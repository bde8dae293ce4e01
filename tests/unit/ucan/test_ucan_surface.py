"""The public surface of dms.ucan and dms.crypto.keystore is pinned."""

import pytest

import dms.crypto.keystore
import dms.ucan

pytestmark = pytest.mark.unit


def test_ucan_all() -> None:
    assert sorted(dms.ucan.__all__) == sorted([
        "BROADCAST", "DEFAULT_MAX_DEPTH", "DEFAULT_SKEW_S", "INVOKE", "UCAN_VERSION", "Anchor",
        "Capability", "CapabilityContext", "Policy", "Revocation", "Token", "authorize_chain",
        "behavior_capability", "cid_of", "is_cid", "issue", "load_verified", "parse",
        "requirements", "split_bundle", "topic_capability", "verify_signature",
    ])
    for name in dms.ucan.__all__:
        assert hasattr(dms.ucan, name)


def test_keystore_all() -> None:
    assert sorted(dms.crypto.keystore.__all__) == sorted([
        "KDF_N", "KDF_P", "KDF_R", "KeyInfo", "Keystore", "passphrase_from_env_or_prompt"])
