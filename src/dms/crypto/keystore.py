"""Encrypted keystore: one JSON file per named Ed25519 key.

    <dir>/<name>.json  (mode 0600, dir 0700, written tmp + rename)
    {
      "version": 1, "name": "dms", "did": "did:key:z6Mk...", "created": 1700000000.0,
      "kdf": {"name": "scrypt", "n": 32768, "r": 8, "p": 1, "salt": "<b64>"},
      "cipher": {"name": "aes-256-gcm", "nonce": "<b64>", "ciphertext": "<b64>"}
    }

The 32-byte seed is sealed with AES-256-GCM under a key derived by scrypt from the
passphrase. The associated data binds the file's ``name`` and ``did``, so renaming or
swapping files, or editing the DID in clear, fails authentication. The DID is stored
in clear so :meth:`Keystore.public` and :meth:`Keystore.list` need no passphrase.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from dms.crypto.keys import SigningKey, VerifyKey
from dms.errors import KeystoreError, ValidationError
from dms.identity.did import public_key_from_did

__all__ = ["KDF_N", "KDF_P", "KDF_R", "KeyInfo", "Keystore", "passphrase_from_env_or_prompt"]

FORMAT_VERSION = 1
KDF_N = 2**15  # ~65 ms to unlock on this machine (measured), 32 MiB of memory
KDF_R = 8
KDF_P = 1
PASSPHRASE_ENV = "DMS_PASSPHRASE"
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_HINT_ENV = f"set {PASSPHRASE_ENV} or run the command in a terminal to be prompted"


@dataclass(frozen=True)
class KeyInfo:
    name: str
    did: str
    created: float


def _b64e(b: bytes) -> str:
    return base64.b64encode(b).decode()


def _b64d(s: Any) -> bytes:
    if not isinstance(s, str):
        raise ValueError("expected a base64 string")
    return base64.b64decode(s, validate=True)


def _aad(name: str, did: str) -> bytes:
    return f"dms-keystore-v{FORMAT_VERSION}\0{name}\0{did}".encode()


def _derive(passphrase: str, salt: bytes, n: int, r: int, p: int) -> tuple[bytes, bytes]:
    """(AES key, passphrase check). The check is a hash of the second half of the scrypt
    output: it tells a wrong passphrase apart from a modified file without weakening
    the KDF (testing a guess against it costs one scrypt, like testing the AES key)."""
    dk = Scrypt(salt=salt, length=64, n=n, r=r, p=p).derive(passphrase.encode())
    return dk[:32], hashlib.sha256(b"dms-keystore-check\0" + dk[32:]).digest()


def _write_atomic(path: Path, data: bytes, mode: int = 0o600, *, exclusive: bool = False) -> None:
    """Write ``data`` to a temp file beside ``path`` (fsynced, ``mode``) and move it in
    place; with ``exclusive``, raise FileExistsError instead of replacing a file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if exclusive:
            os.link(tmp, path)  # atomic create-if-absent
            os.unlink(tmp)
        else:
            os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


class Keystore:
    """Named Ed25519 keys, encrypted at rest, in one directory."""

    def __init__(self, dir: Path, *, kdf_n: int = KDF_N) -> None:
        self.dir = Path(dir)
        self._kdf_n = kdf_n

    # -- paths -------------------------------------------------------------------------
    def _path(self, name: str) -> Path:
        if not _NAME_RE.match(name):
            raise ValidationError(
                f"invalid key name {name!r}",
                hint="use letters, digits, '.', '_' or '-' (up to 64 characters)")
        return self.dir / f"{name}.json"

    def _ensure_dir(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.dir, 0o700)

    def exists(self, name: str) -> bool:
        return self._path(name).is_file()

    # -- create / load -----------------------------------------------------------------
    def create(self, name: str, passphrase: str, *, key: SigningKey | None = None) -> SigningKey:
        """Create and store a new key (or the given one); error if ``name`` exists."""
        path = self._path(name)
        if path.exists():
            raise KeystoreError(f"key {name!r} already exists in {self.dir}",
                                hint="pick another name, or load the existing key")
        if not passphrase:
            raise KeystoreError("an empty passphrase is not allowed",
                                hint=f"choose a passphrase (or set {PASSPHRASE_ENV})")
        sk = key or SigningKey.generate()
        did = sk.did
        salt = os.urandom(16)
        nonce = os.urandom(12)
        kek, check = _derive(passphrase, salt, self._kdf_n, KDF_R, KDF_P)
        ct = AESGCM(kek).encrypt(nonce, sk.seed(), _aad(name, did))
        doc = {
            "version": FORMAT_VERSION, "name": name, "did": did, "created": time.time(),
            "kdf": {"name": "scrypt", "n": self._kdf_n, "r": KDF_R, "p": KDF_P,
                    "salt": _b64e(salt), "check": _b64e(check)},
            "cipher": {"name": "aes-256-gcm", "nonce": _b64e(nonce), "ciphertext": _b64e(ct)},
        }
        self._ensure_dir()
        try:
            _write_atomic(path, json.dumps(doc, indent=2).encode(), exclusive=True)
        except FileExistsError:  # created meanwhile by another process
            raise KeystoreError(f"key {name!r} already exists in {self.dir}",
                                hint="pick another name, or load the existing key") from None
        return sk

    def _read(self, name: str) -> dict[str, Any]:
        path = self._path(name)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise KeystoreError(f"no key named {name!r} in {self.dir}",
                                hint=f"create it with `dms key new {name}`") from None
        try:
            doc = json.loads(raw)
            if not isinstance(doc, dict):
                raise ValueError("not an object")
        except ValueError as exc:
            raise self._corrupt(name, path) from exc
        if doc.get("version") != FORMAT_VERSION:
            raise KeystoreError(f"key file {path} has unsupported version {doc.get('version')!r}",
                                hint="it was written by another dms version; upgrade dms")
        return doc

    @staticmethod
    def _corrupt(name: str, path: Path) -> KeystoreError:
        return KeystoreError(
            f"key file for {name!r} ({path}) is corrupted or was modified",
            hint="restore it from a backup; a key file must not be edited by hand")

    def load(self, name: str, passphrase: str) -> SigningKey:
        """Decrypt and return the key; KeystoreError on wrong passphrase or tampering."""
        doc = self._read(name)
        path = self._path(name)
        try:
            kdf, cipher = doc["kdf"], doc["cipher"]
            did = str(doc["did"])
            if doc.get("name") != name or kdf.get("name") != "scrypt" \
                    or cipher.get("name") != "aes-256-gcm":
                raise ValueError("header mismatch")
            n, r, p = int(kdf["n"]), int(kdf["r"]), int(kdf["p"])
            if not (2**10 <= n <= 2**20 and n & (n - 1) == 0 and 1 <= r <= 32 and 1 <= p <= 16):
                raise ValueError("kdf parameters out of range")
            salt, nonce, ct = _b64d(kdf["salt"]), _b64d(cipher["nonce"]), _b64d(cipher["ciphertext"])
            check = _b64d(kdf["check"])
            if len(salt) < 16 or len(nonce) != 12 or len(ct) != 48 or len(check) != 32:
                raise ValueError("bad field sizes")
            public_key_from_did(did)
        except (KeyError, TypeError, ValueError, ValidationError) as exc:
            raise self._corrupt(name, path) from exc
        kek, expected = _derive(passphrase, salt, n, r, p)
        if not hmac.compare_digest(expected, check):
            raise KeystoreError(
                f"wrong passphrase for key {name!r}",
                hint=f"check the passphrase ({PASSPHRASE_ENV} or the prompt); if it is "
                     f"right, the key file {path} was modified (its salt or KDF fields)")
        try:
            seed = AESGCM(kek).decrypt(nonce, ct, _aad(name, did))
        except InvalidTag:
            raise self._corrupt(name, path) from None
        sk = SigningKey(seed)
        if sk.did != did:
            raise self._corrupt(name, path)
        return sk

    def get_or_create(self, name: str, passphrase: str) -> SigningKey:
        if self.exists(name):
            return self.load(name, passphrase)
        try:
            return self.create(name, passphrase)
        except KeystoreError:
            if self.exists(name):  # another process created it first
                return self.load(name, passphrase)
            raise

    # -- public parts ------------------------------------------------------------------
    def public(self, name: str) -> VerifyKey:
        """The key's public half, read from the clear DID (no passphrase)."""
        doc = self._read(name)
        try:
            return VerifyKey(public_key_from_did(str(doc["did"])))
        except (KeyError, ValidationError, ValueError) as exc:
            raise self._corrupt(name, self._path(name)) from exc

    def list(self) -> list[KeyInfo]:
        out: list[KeyInfo] = []
        if not self.dir.is_dir():
            return out
        for p in sorted(self.dir.glob("*.json")):
            try:
                doc = json.loads(p.read_bytes())
                out.append(KeyInfo(str(doc["name"]), str(doc["did"]), float(doc["created"])))
            except (OSError, ValueError, KeyError, TypeError):
                continue  # not a key file (or unreadable): skip, `load` reports it
        return out


def passphrase_from_env_or_prompt(prompt_fn: Callable[[str], str] | None = None,
                                  *, prompt: str = "Passphrase: ") -> str:
    """``DMS_PASSPHRASE`` if set, else ask when stdin is a terminal, else fail with a hint."""
    env = os.environ.get(PASSPHRASE_ENV)
    if env:
        return env
    if sys.stdin is not None and sys.stdin.isatty():
        if prompt_fn is None:
            import getpass

            prompt_fn = getpass.getpass
        value = prompt_fn(prompt)
        if value:
            return value
        raise KeystoreError("an empty passphrase was entered", hint=_HINT_ENV)
    raise KeystoreError("no passphrase: DMS_PASSPHRASE is not set and stdin is not a terminal",
                        hint=f"set {PASSPHRASE_ENV} (e.g. `export {PASSPHRASE_ENV}=...`)")
