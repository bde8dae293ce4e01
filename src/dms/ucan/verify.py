"""Chain verification (pure: no files, the clock is an argument).

For each capability an invocation needs, look for a token addressed to the caller that
grants it, then walk its proofs upward until a trusted root:

    caller <-aud- token -iss-> X <-aud- proof -iss-> ... -iss-> root (trusted)
                                 \\<-aud- require anchor (issued by a root) for X

Every link is checked: signature (cached), time bounds (with skew), that it grants the
needed capability (so no link can widen what its proof grants), that it does not
outlive its proof, audience == issuer below, depth limits (global and per-token ``fct``
``dms/depth``), and revocation (by the token's issuer or any issuer upstream).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from dms.errors import AuthError, ValidationError
from dms.ucan.capability import Capability, covered_by
from dms.ucan.cid import is_cid
from dms.ucan.token import Token, ensure_verified, load_verified, parse_cached

__all__ = ["DEFAULT_MAX_DEPTH", "DEFAULT_SKEW_S", "Policy", "authorize_chain", "resolve_chain"]

DEFAULT_MAX_DEPTH = 8
DEFAULT_SKEW_S = 30.0
MAX_TOKENS = 64   # tokens one invocation may present
MAX_STEPS = 256   # links one proof search may visit (bounds crafted proof graphs)

# most telling first: which failure the error reports when several chains fail
_PRIORITY = ("revoked", "bad_signature", "expired", "not_yet_valid", "depth", "broadened",
             "outlives_proof", "audience", "untrusted_root", "proof_missing", "malformed",
             "missing")


@dataclass(frozen=True)
class Policy:
    roots: frozenset[str]
    require: tuple[Token, ...] = ()
    revoked: Mapping[str, frozenset[str]] = field(default_factory=dict)
    max_depth: int = DEFAULT_MAX_DEPTH
    skew_s: float = DEFAULT_SKEW_S


@dataclass
class _Fail:
    reason: str
    message: str


def _index(tokens: Sequence[str], fails: list[_Fail]) -> dict[str, Token]:
    """Parse (not verify: signatures are checked lazily, only on the links walked)."""
    if len(tokens) > MAX_TOKENS:
        raise AuthError(f"{len(tokens)} tokens presented, more than the limit of {MAX_TOKENS}",
                        hint="attach only the chains the invocation needs",
                        details={"reason": "malformed"})
    out: dict[str, Token] = {}
    for raw in tokens:
        try:
            tok = parse_cached(raw)
        except ValidationError as exc:
            fails.append(_Fail("malformed", exc.message))
            continue
        out[tok.cid] = tok
    return out


class _Walker:
    def __init__(self, policy: Policy, bundle: Mapping[str, Token], now: float,
                 fails: list[_Fail]) -> None:
        self.p, self.bundle, self.now, self.fails = policy, bundle, now, fails
        self.memo: dict[tuple[str, int], frozenset[str] | None] = {}
        self.steps = 0

    def fail(self, reason: str, message: str) -> None:
        self.fails.append(_Fail(reason, message))

    def resolve(self, ref: str) -> Token | None:
        if "." in ref:  # an inline JWT proof (UCAN 0.8 / @ucans/ucans style)
            try:
                return parse_cached(ref)
            except ValidationError as exc:
                self.fail("malformed", exc.message)
            return None
        tok = self.bundle.get(ref)
        if tok is None:
            self.fail("proof_missing", f"proof {ref} was not presented"
                      + ("" if is_cid(ref) else " (and is not a CID)"))
        return tok

    def prove(self, tok: Token, need: Capability, below: int,
              stack: frozenset[str]) -> frozenset[str] | None:
        """Upstream issuers of a valid chain from ``tok`` to a root, or None."""
        key = (tok.cid, below)
        if key in self.memo:  # a DAG of proofs is walked once per (token, depth)
            return self.memo[key]
        self.steps += 1
        if self.steps > MAX_STEPS:
            self.fail("depth", f"proof search gave up after {MAX_STEPS} links")
            return None
        res = self._prove(tok, need, below, stack)
        self.memo[key] = res
        return res

    def _prove(self, tok: Token, need: Capability, below: int,
               stack: frozenset[str]) -> frozenset[str] | None:
        if below + 1 > self.p.max_depth:
            self.fail("depth", f"chain is longer than the limit of {self.p.max_depth} tokens")
            return None
        if tok.cid in stack:
            self.fail("malformed", f"token {tok.cid} proves itself (cycle)")
            return None
        problem = tok.time_problem(self.now, self.p.skew_s)
        if problem is not None:
            self.fail(problem.replace(" ", "_"), f"token {tok.cid} from {tok.iss} is {problem}")
            return None
        if tok.max_depth is not None and below > tok.max_depth:
            self.fail("depth", f"token {tok.cid} allows {tok.max_depth} further delegation(s), "
                      f"the chain below it has {below}")
            return None
        if not covered_by(need, tok.caps):
            self.fail("broadened" if below else "missing",
                      f"token {tok.cid} from {tok.iss} does not grant {need.label}")
            return None
        if not ensure_verified(tok):
            self.fail("bad_signature", f"token {tok.cid} has a bad signature (issuer {tok.iss})")
            return None
        ups: frozenset[str] | None = None
        if tok.iss in self.p.roots:
            ups = frozenset({tok.iss})
        else:
            stack2 = stack | {tok.cid}
            parents = [t for t in (self.resolve(r) for r in tok.prf) if t is not None]
            seen = {t.cid for t in parents}
            parents += [r for r in self.p.require if r.aud == tok.iss and r.cid not in seen]
            if not parents and not tok.prf:
                self.fail("untrusted_root",
                          f"issuer {tok.iss} is not a trusted root and no proof links it to one")
            for parent in parents:
                if parent.aud != tok.iss:
                    self.fail("audience", f"proof {parent.cid} is addressed to {parent.aud}, "
                              f"not to {tok.iss} who issued {tok.cid}")
                    continue
                if parent.exp is not None and (tok.exp is None or tok.exp > parent.exp):
                    self.fail("outlives_proof", f"token {tok.cid} expires after its proof "
                              f"{parent.cid}")
                    continue
                if parent.nbf is not None and tok.nbf is not None and tok.nbf < parent.nbf:
                    self.fail("outlives_proof", f"token {tok.cid} starts before its proof "
                              f"{parent.cid}")
                    continue
                r = self.prove(parent, need, below + 1, stack2)
                if r is not None:
                    ups = r | {tok.iss}
                    break
        if ups is None:
            return None
        revokers = self.p.revoked.get(tok.cid)
        if revokers and revokers & ups:
            self.fail("revoked", f"token {tok.cid} was revoked by {sorted(revokers & ups)[0]}")
            return None
        return ups


_HINTS = {
    "revoked": "the token was revoked by its issuer; ask for a new grant",
    "bad_signature": "a token was forged or altered; ask its issuer for a new one",
    "expired": "ask the issuer for a fresh token (or check the clocks)",
    "not_yet_valid": "the token is not valid yet; wait, or check the clocks",
    "depth": "the delegation chain is too long; get a token closer to the root",
    "broadened": "a delegation cannot grant more than its proof; delegate a narrower ability",
    "outlives_proof": "a delegation cannot outlive its proof; delegate a shorter lifetime",
    "audience": "each proof must be addressed to the issuer of the token it proves",
    "proof_missing": "attach the whole chain (the provide anchor and its proofs)",
    "malformed": "send UCAN JWTs as issued",
}


def _error(caller: str, need: Capability, fails: Sequence[_Fail]) -> AuthError:
    if not fails:
        return AuthError(
            f"{caller} has no capability for {need.label}: no token addressed to it was "
            "presented",
            hint=f"grant one on a trusted node (`dms cap grant -c dms --to {caller} --cap {need.label}`) and "
                 "add it on the caller with `dms cap anchor --provide`",
            details={"reason": "missing", "ability": need.label})
    best = min(fails, key=lambda f: _PRIORITY.index(f.reason))
    if best.reason == "missing":
        hint = (f"grant it on a trusted node (`dms cap grant -c dms --to {caller} --cap {need.label}`) and add "
                "it on the caller with `dms cap anchor --provide`")
    elif best.reason == "untrusted_root":
        hint = ("trust the chain's root on this node with `dms cap anchor --root <did>` "
                "(or `--require <token>`)")
    else:
        hint = _HINTS[best.reason]
    return AuthError(f"{caller} is not authorized for {need.label}: {best.message}", hint=hint,
                     details={"reason": best.reason, "ability": need.label})


def authorize_chain(policy: Policy, caller: str, needs: Sequence[Capability],
                    tokens: Sequence[str], now: float,
                    pool: Mapping[str, Token] | None = None) -> None:
    """Raise AuthError unless every capability in ``needs`` is proven for ``caller``."""
    if caller in policy.roots:
        return
    fails: list[_Fail] = []
    bundle = dict(pool or {})
    bundle.update(_index(tokens, fails))
    index_fails = list(fails)
    leaves = [t for t in bundle.values() if t.aud == caller]
    for need in needs:
        fails = list(index_fails)
        walker = _Walker(policy, bundle, now, fails)
        if not any(walker.prove(leaf, need, 0, frozenset()) is not None for leaf in leaves):
            raise _error(caller, need, fails)


def resolve_chain(root: Token, store: Mapping[str, Token]) -> list[Token]:
    """``root`` and every proof reachable from it in ``store`` (for attaching)."""
    out: list[Token] = []
    seen: set[str] = set()
    todo = [root]
    while todo:
        t = todo.pop()
        if t.cid in seen:
            continue
        seen.add(t.cid)
        out.append(t)
        for ref in t.prf:
            p = store.get(ref)
            if p is None and "." in ref:
                try:
                    p = load_verified(ref)
                except (AuthError, ValidationError):
                    p = None
            if p is not None:
                todo.append(p)
    return out
