"""A capability context (``dms`` or ``user``): a key plus its trust anchors, on disk.

    <home>/cap/<context>.json   (0600, written tmp + rename)
    {"version": 1, "did": ..., "roots": [did], "require": [jwt], "provide": [jwt],
     "proofs": {cid: jwt}, "revocations": [{iss, revoke, challenge}]}

roots    DIDs trusted fully (the context's own DID always is).
require  tokens from a root to some DID X: chains rooted at X are accepted, limited to
         the token's capabilities.
provide  tokens granted to this context; attached (with their proofs) to outgoing calls
         and used as proofs when this context delegates.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dms.crypto.keys import SigningKey
from dms.crypto.keystore import _write_atomic
from dms.errors import AuthError, ConfigError, ValidationError
from dms.identity.did import public_key_from_did
from dms.ucan.capability import (
    Capability,
    behavior_capability,
    covered_by,
    requirements,
    topic_capability,
)
from dms.ucan.revocation import Revocation
from dms.ucan.token import Token, issue, load_verified
from dms.ucan.verify import (
    DEFAULT_MAX_DEPTH,
    DEFAULT_SKEW_S,
    Policy,
    authorize_chain,
    resolve_chain,
)

__all__ = ["Anchor", "CapabilityContext", "split_bundle"]

FORMAT_VERSION = 1
DEFAULT_EXPIRY_S = 30 * 24 * 3600
ANCHOR_KINDS = ("root", "require", "provide")


@dataclass(frozen=True)
class Anchor:
    kind: str            # root | require | provide
    value: str           # a DID (root) or a JWT
    cid: str | None = None
    iss: str | None = None
    aud: str | None = None
    abilities: tuple[str, ...] = ()
    exp: int | None = None


@dataclass
class _Change:
    changed: bool = True


def split_bundle(text: str) -> list[str]:
    """A token bundle as the CLI passes it: JWTs separated by commas or whitespace;
    the first is the token, the rest its proofs."""
    return [t for t in re.split(r"[\s,]+", text.strip()) if t]


class CapabilityContext:
    def __init__(self, path: Path, key: SigningKey, *, max_depth: int = DEFAULT_MAX_DEPTH,
                 skew_s: float = DEFAULT_SKEW_S) -> None:
        self.path = Path(path)
        self.key = key
        self.did = key.did
        self.max_depth = max_depth
        self.skew_s = skew_s
        self._roots: list[str] = []
        self._require: list[Token] = []
        self._provide: list[Token] = []
        self._proofs: dict[str, Token] = {}
        self._revocations: dict[str, Revocation] = {}  # by (revoke + iss)
        self._lock = threading.RLock()
        self._policy: Policy | None = None
        self._stamp: tuple[int, int, int] | None = None
        self._checked = 0.0
        self.refresh_interval_s = 1.0

    # -- sharing the file with other processes (daemon and CLI) ----------------------------
    def _file_stamp(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def refresh(self, *, force: bool = False) -> bool:
        """Re-read the file if another process changed it (checked at most once per
        ``refresh_interval_s`` unless ``force``). True if it was reloaded."""
        now = time.monotonic()
        if not force and now - self._checked < self.refresh_interval_s:
            return False
        self._checked = now
        stamp = self._file_stamp()
        if stamp is None or stamp == self._stamp:
            return False
        with self._lock:
            self._read()
        return True

    @contextmanager
    def _mutate(self) -> Iterator[_Change]:
        """Read-modify-write under an flock, so the daemon and the CLI never lose each
        other's changes."""
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self.path.with_name(self.path.name + ".lock"),
                         os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                stamp = self._file_stamp()
                if stamp is not None and stamp != self._stamp:
                    self._read()
                change = _Change()
                yield change
                if change.changed or stamp is None:
                    self._save()
            finally:
                os.close(fd)  # releases the flock

    # -- persistence ---------------------------------------------------------------------
    @classmethod
    def load(cls, path: Path, key: SigningKey, **kw: Any) -> CapabilityContext:
        """Open the context file at ``path`` (created empty if missing)."""
        ctx = cls(path, key, **kw)
        if ctx.path.exists():
            ctx._read()
        else:
            with ctx._mutate():
                pass
        return ctx

    def _read(self) -> None:
        self._policy = None
        self._stamp = self._file_stamp()
        try:
            doc = json.loads(self.path.read_bytes())
            if doc.get("version") != FORMAT_VERSION:
                raise ValueError(f"unsupported version {doc.get('version')!r}")
            if doc.get("did") != self.did:
                raise ConfigError(
                    f"capability context {self.path} belongs to {doc.get('did')}, "
                    f"not to the key {self.did}",
                    hint="use the key this context was made with, or move the file away")
            self._revocations = {}
            self._roots = [str(d) for d in doc.get("roots", [])]
            self._require = [_token_from(t) for t in doc.get("require", [])]
            self._provide = [_token_from(t) for t in doc.get("provide", [])]
            self._proofs = {t.cid: t for t in (_token_from(r) for r in doc.get("proofs", {}).values())}
            for r in doc.get("revocations", []):
                rev = Revocation.from_dict(r)
                self._revocations[rev.revoke + rev.iss] = rev
        except ConfigError:
            raise
        except (OSError, ValueError, AttributeError, TypeError, AuthError,
                ValidationError) as exc:
            raise ConfigError(f"capability context {self.path} is unreadable: {exc}",
                              hint="restore it from a backup, or remove it and re-add the "
                                   "anchors (`dms cap anchor`)") from exc

    def _save(self) -> None:
        now = time.time()
        keep = {cid: t for cid, t in self._proofs.items() if t.exp is None or t.exp > now}
        self._proofs = keep
        doc = {
            "version": FORMAT_VERSION, "did": self.did, "roots": self._roots,
            "require": [t.raw for t in self._require], "provide": [t.raw for t in self._provide],
            "proofs": {cid: t.raw for cid, t in keep.items()},
            "revocations": [r.to_dict() for r in self._revocations.values()],
        }
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        _write_atomic(self.path, json.dumps(doc, indent=1).encode())
        self._stamp = self._file_stamp()
        self._policy = None

    # -- anchors -------------------------------------------------------------------------
    def add_root(self, did: str) -> None:
        public_key_from_did(did)
        with self._mutate() as ch:
            ch.changed = did not in self._roots
            if ch.changed:
                self._roots.append(did)

    def _add_token(self, kind: str, token: str, proofs: Sequence[str]) -> Token:
        toks = split_bundle(token) + [p for t in proofs for p in split_bundle(t)]
        if not toks:
            raise ValidationError("no token given", hint="pass a UCAN JWT")
        parsed = [load_verified(t) for t in toks]
        head = parsed[0]
        if kind == "provide" and head.aud != self.did:
            raise ValidationError(
                f"token {head.cid} is addressed to {head.aud}, not to this context ({self.did})",
                hint="a provide anchor must be granted to this context's DID")
        with self._mutate():
            lst = self._require if kind == "require" else self._provide
            if all(t.cid != head.cid for t in lst):
                lst.append(head)
            for p in parsed[1:]:
                self._proofs[p.cid] = p
        return head

    def add_require(self, token: str, proofs: Sequence[str] = ()) -> Token:
        return self._add_token("require", token, proofs)

    def add_provide(self, token: str, proofs: Sequence[str] = ()) -> Token:
        """Add a token granted to this context (a bundle "tok,proof,..." is accepted)."""
        return self._add_token("provide", token, proofs)

    def list_anchors(self) -> list[Anchor]:
        out = [Anchor("root", self.did)] + [Anchor("root", d) for d in self._roots]
        for kind, lst in (("require", self._require), ("provide", self._provide)):
            out += [Anchor(kind, t.raw, t.cid, t.iss, t.aud, tuple(c.label for c in t.caps),
                           t.exp) for t in lst]
        return out

    def remove_anchor(self, kind: str, value: str) -> bool:
        """Remove a root DID, or a require/provide token given as JWT or CID."""
        if kind not in ANCHOR_KINDS:
            raise ValidationError(f"unknown anchor kind {kind!r}", hint="root, require or provide")
        with self._mutate() as ch:
            ch.changed = False
            if kind == "root":
                if value not in self._roots:
                    return False
                self._roots.remove(value)
            else:
                lst = self._require if kind == "require" else self._provide
                keep = [t for t in lst if value not in (t.cid, t.raw)]
                if len(keep) == len(lst):
                    return False
                lst[:] = keep
            ch.changed = True
        return True

    # -- issuing -------------------------------------------------------------------------
    @staticmethod
    def _caps(abilities: Iterable[str], topics: Iterable[str]) -> list[Capability]:
        caps = [behavior_capability(a) for a in abilities] + [topic_capability(t) for t in topics]
        if not caps:
            raise ValidationError("no abilities or topics given",
                                  hint="name at least one behavior path (e.g. /public) or topic")
        return caps

    def grant(self, audience_did: str, abilities: list[str], topics: Sequence[str] = (),
              expiry_s: float = DEFAULT_EXPIRY_S, depth: int | None = None) -> str:
        """A new root token from this context to ``audience_did``."""
        return issue(self.key, audience_did, self._caps(abilities, topics), lifetime_s=expiry_s,
                     max_depth=depth)

    def delegate(self, audience_did: str, abilities: list[str], topics: Sequence[str] = (),
                 expiry_s: float = DEFAULT_EXPIRY_S, depth: int | None = None) -> str:
        """A token from this context, proven by its provide anchors; AuthError naming the
        first ability no provide anchor covers."""
        now = time.time()
        used: dict[str, Token] = {}
        valid = [t for t in self._provide if t.is_time_valid(now)]
        for cap in self._caps(abilities, topics):
            covering = [t for t in valid if covered_by(cap, t.caps)]
            if not covering:
                raise AuthError(
                    f"cannot delegate {cap.label}: no provide anchor of {self.did} grants it",
                    hint="delegate only what was granted to this context (see `dms cap list`), "
                         "or get it granted and add it with `dms cap anchor --provide`",
                    details={"reason": "missing", "ability": cap.label})
            best = max(covering, key=lambda t: t.exp or float("inf"))
            used[best.cid] = best
        exps = [t.exp for t in used.values() if t.exp is not None]
        exp = int(min([now + expiry_s, *exps]))
        return issue(self.key, audience_did, self._caps(abilities, topics), exp=exp,
                     proofs=list(used), max_depth=depth)

    def chain(self, token: str) -> list[str]:
        """``token`` followed by every proof this context knows for it (for handing over)."""
        tok = load_verified(token)
        return [t.raw for t in resolve_chain(tok, self._store())]

    def _store(self) -> dict[str, Token]:
        store = dict(self._proofs)
        for t in (*self._provide, *self._require):
            store[t.cid] = t
        return store

    def proofs_for(self, audience_did: str, ability: str, topic: str | None = None) -> list[str]:
        """Tokens to attach to an invocation of ``ability`` sent to ``audience_did``: the
        provide anchors covering it, each with its proofs. Empty when none does (the
        callee may trust this context as a root)."""
        self.refresh()
        now = time.time()
        store = self._store()
        out: dict[str, str] = {}
        for need in requirements(ability, topic):
            for t in self._provide:
                if t.is_time_valid(now) and covered_by(need, t.caps):
                    for c in resolve_chain(t, store):
                        out.setdefault(c.cid, c.raw)
        return list(out.values())

    # -- authorizing ---------------------------------------------------------------------
    def policy(self) -> Policy:
        pol = self._policy
        if pol is None:
            revoked: dict[str, set[str]] = {}
            for r in self._revocations.values():
                revoked.setdefault(r.revoke, set()).add(r.iss)
            pol = Policy(roots=frozenset([self.did, *self._roots]), require=tuple(self._require),
                         revoked={k: frozenset(v) for k, v in revoked.items()},
                         max_depth=self.max_depth, skew_s=self.skew_s)
            self._policy = pol
        return pol

    def authorize(self, caller_did: str, ability: str, tokens: Sequence[str], *,
                  topic: str | None = None, now: float | None = None) -> None:
        """Raise AuthError (message + hint) unless ``caller_did`` may invoke ``ability``
        (and broadcast on ``topic``) given the presented ``tokens``."""
        try:
            needs = requirements(ability, topic)
        except ValidationError as exc:
            raise AuthError(exc.message, hint=exc.hint) from exc
        self.refresh()
        authorize_chain(self.policy(), caller_did, needs, tokens,
                        time.time() if now is None else now, self._proofs or None)

    # -- revocation ----------------------------------------------------------------------
    def revoke(self, token_or_cid: str) -> Revocation:
        """Sign a revocation of a token (JWT or CID) with this context's key, apply it,
        and return it for spreading."""
        rev = Revocation.create(self.key, token_or_cid)
        self.apply_revocation(rev)
        return rev

    def apply_revocation(self, record: Revocation | dict[str, Any]) -> bool:
        """Verify and persist a revocation; False if already known. AuthError if forged."""
        rev = record if isinstance(record, Revocation) else Revocation.from_dict(record)
        rev.verify()
        with self._mutate() as ch:
            k = rev.revoke + rev.iss
            if k in self._revocations:
                ch.changed = False
                return False
            self._revocations[k] = rev
        return True

    def revocations(self) -> list[Revocation]:
        return list(self._revocations.values())


def _token_from(raw: Any) -> Token:
    if not isinstance(raw, str):
        raise ValueError("tokens are stored as JWT strings")
    return load_verified(raw)
