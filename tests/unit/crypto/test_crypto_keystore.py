"""The encrypted keystore: roundtrip, wrong passphrase, tampering, modes, no clear seed."""

import base64
import json
import os
import stat
import sys
from pathlib import Path

import pytest

from dms.crypto.keys import SigningKey
from dms.crypto.keystore import Keystore, passphrase_from_env_or_prompt
from dms.errors import KeystoreError, ValidationError

pytestmark = pytest.mark.unit


@pytest.fixture
def ks(tmp_path: Path) -> Keystore:
    return Keystore(tmp_path / "keys")


def test_roundtrip_and_public_without_passphrase(ks: Keystore) -> None:
    sk = ks.create("dms", "pw")
    assert ks.exists("dms")
    assert ks.load("dms", "pw").seed() == sk.seed()
    assert ks.public("dms") == sk.public
    [info] = ks.list()
    assert (info.name, info.did) == ("dms", sk.did) and info.created > 0


def test_create_refuses_existing_and_get_or_create_loads(ks: Keystore) -> None:
    sk = ks.get_or_create("user", "pw")
    with pytest.raises(KeystoreError, match="already exists"):
        ks.create("user", "pw")
    assert ks.get_or_create("user", "pw").did == sk.did


def test_missing_key_says_how_to_create(ks: Keystore) -> None:
    with pytest.raises(KeystoreError, match="no key named 'nope'") as ei:
        ks.load("nope", "pw")
    assert "dms key new" in ei.value.hint


def test_bad_name_and_empty_passphrase(ks: Keystore) -> None:
    with pytest.raises(ValidationError):
        ks.create("../evil", "pw")
    with pytest.raises(KeystoreError, match="empty passphrase"):
        ks.create("dms", "")


def test_wrong_passphrase(ks: Keystore) -> None:
    ks.create("dms", "right")
    with pytest.raises(KeystoreError) as ei:
        ks.load("dms", "wrong")
    assert ei.value.message == "wrong passphrase for key 'dms'"
    assert "DMS_PASSPHRASE" in ei.value.hint


def test_modes(ks: Keystore) -> None:
    ks.create("dms", "pw")
    assert stat.S_IMODE(os.stat(ks.dir).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(ks.dir / "dms.json").st_mode) == 0o600
    assert [p.name for p in ks.dir.iterdir()] == ["dms.json"]  # no temp files left


def test_no_seed_in_clear(ks: Keystore) -> None:
    sk = SigningKey.generate()
    ks.create("dms", "pw", key=sk)
    data = (ks.dir / "dms.json").read_bytes()
    seed = sk.seed()
    for form in (seed, seed.hex().encode(), seed.hex().upper().encode(),
                 base64.b64encode(seed), base64.urlsafe_b64encode(seed).rstrip(b"="),
                 base64.b64encode(seed).rstrip(b"="), base64.b32encode(seed).rstrip(b"=")):
        assert form not in data
    # nor the 64-byte secret key forms (seed || public)
    assert base64.b64encode(seed + sk.public.raw)[:40] not in data


def _tamper(ks: Keystore, name: str, edit) -> None:  # type: ignore[no-untyped-def]
    p = ks.dir / f"{name}.json"
    doc = json.loads(p.read_text())
    edit(doc)
    p.write_text(json.dumps(doc))


def _flip_b64(s: str) -> str:
    b = bytearray(base64.b64decode(s))
    b[0] ^= 1
    return base64.b64encode(bytes(b)).decode()


@pytest.mark.parametrize("edit", [
    lambda d: d["cipher"].update(ciphertext=_flip_b64(d["cipher"]["ciphertext"])),
    lambda d: d["cipher"].update(nonce=_flip_b64(d["cipher"]["nonce"])),
    lambda d: d.update(did=SigningKey.generate().did),
], ids=["ciphertext", "nonce", "did"])
def test_tampered_file_is_detected(ks: Keystore, edit) -> None:  # type: ignore[no-untyped-def]
    ks.create("dms", "pw")
    _tamper(ks, "dms", edit)
    with pytest.raises(KeystoreError, match="corrupted or was modified"):
        ks.load("dms", "pw")


def test_tampered_salt_fails_to_unlock(ks: Keystore) -> None:
    ks.create("dms", "pw")
    _tamper(ks, "dms", lambda d: d["kdf"].update(salt=_flip_b64(d["kdf"]["salt"])))
    with pytest.raises(KeystoreError) as ei:
        ks.load("dms", "pw")
    assert "modified" in ei.value.hint  # cannot be told from a wrong passphrase: says both


def test_swapped_files_are_detected(ks: Keystore) -> None:
    ks.create("a", "pw")
    ks.create("b", "pw")
    a = json.loads((ks.dir / "a.json").read_text())
    a["name"] = "b"
    (ks.dir / "b.json").write_text(json.dumps(a))  # a's ciphertext under b's name
    with pytest.raises(KeystoreError, match="corrupted or was modified"):
        ks.load("b", "pw")


def test_garbage_file(ks: Keystore) -> None:
    ks.create("dms", "pw")
    (ks.dir / "dms.json").write_text("{not json")
    with pytest.raises(KeystoreError, match="corrupted or was modified"):
        ks.load("dms", "pw")


def test_passphrase_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DMS_PASSPHRASE", "from-env")
    assert passphrase_from_env_or_prompt(lambda _p: "prompted") == "from-env"


class _Tty:
    def isatty(self) -> bool:
        return True


class _NoTty:
    def isatty(self) -> bool:
        return False


def test_passphrase_prompt_on_tty(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DMS_PASSPHRASE", raising=False)
    monkeypatch.setattr(sys, "stdin", _Tty())
    assert passphrase_from_env_or_prompt(lambda _p: "prompted") == "prompted"


def test_passphrase_missing_without_tty(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DMS_PASSPHRASE", raising=False)
    monkeypatch.setattr(sys, "stdin", _NoTty())
    with pytest.raises(KeystoreError) as ei:
        passphrase_from_env_or_prompt(lambda _p: "never")
    assert "DMS_PASSPHRASE" in ei.value.hint
