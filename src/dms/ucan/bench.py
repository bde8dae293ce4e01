"""Micro-benchmark of the token layer: ``python -m dms.ucan.bench`` prints JSON.

issue_us          sign one token
verify_us         parse + check one token's signature (cache cleared each time)
chain3_cold_us    authorize a 3-link chain, nothing cached
chain3_warm_us    the same chain again (signatures cached)
keystore_unlock_ms  scrypt (n=2**15) + AES-GCM to load a key
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from dms.crypto.keys import SigningKey
from dms.crypto.keystore import Keystore
from dms.ucan.capability import behavior_capability
from dms.ucan.context import CapabilityContext
from dms.ucan.token import PARSED, VERIFIED, issue, load_verified


def _per_call_us(fn: Callable[[], object], n: int) -> float:
    fn()
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - t) / n * 1e6)
    return round(best, 1)


def _clear() -> None:
    VERIFIED.clear()
    PARSED.clear()


def main() -> None:
    with tempfile.TemporaryDirectory() as d:
        node, a, b, c = (SigningKey.generate() for _ in range(4))
        cn = CapabilityContext.load(Path(d) / "n.json", node)
        ca = CapabilityContext.load(Path(d) / "a.json", a)
        cb = CapabilityContext.load(Path(d) / "b.json", b)
        ca.add_provide(cn.grant(a.did, ["/dms"]))
        t = ca.delegate(b.did, ["/dms/deployment"])
        cb.add_provide(t, ca.chain(t)[1:])
        t3 = cb.delegate(c.did, ["/dms/deployment/bid"])
        chain = cb.chain(t3)
        cap = [behavior_capability("/dms/x")]
        tok = issue(node, a.did, cap)

        def verify() -> None:
            _clear()
            load_verified(tok)

        def cold() -> None:
            _clear()
            cn.authorize(c.did, "/dms/deployment/bid", chain)

        ks = Keystore(Path(d) / "keys")
        ks.create("dms", "pw")
        t0 = time.perf_counter()
        ks.load("dms", "pw")
        unlock_ms = (time.perf_counter() - t0) * 1e3
        out = {
            "issue_us": _per_call_us(lambda: issue(node, a.did, cap), 2000),
            "verify_us": _per_call_us(verify, 2000),
            "chain3_cold_us": _per_call_us(cold, 500),
            "chain3_warm_us": _per_call_us(
                lambda: cn.authorize(c.did, "/dms/deployment/bid", chain), 5000),
            "chain_len": len(chain),
            "keystore_unlock_ms": round(unlock_ms, 1),
        }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
