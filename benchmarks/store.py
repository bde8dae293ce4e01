"""Benchmark the SQLite store: bulk inserts and an equality query, indexed vs not.

    .venv/bin/python benchmarks/store.py [--docs 100000] [--batch 1000]

Inserts ``--docs`` small documents through ``Collection.put``, ``--batch`` per
transaction (and, for comparison, a few thousand one-per-transaction), then times the
same equality query (a few matching rows) without and with an expression index, in one
run on one database in a temp dir. The last line of output is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from dms.store import Cond, Query, SQLiteStore

STATUSES = ("running", "completed", "failed", "preparing")


def doc(i: int, distinct_nodes: int) -> dict[str, Any]:
    return {"node": f"n{i % distinct_nodes}", "status": STATUSES[i % 4], "cpu": i % 16,
            "mem_mb": 512 * (i % 8 + 1), "owner": f"u{i % 1000}"}


def median_ms(fn: Any, runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=100_000)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--single", type=int, default=5000, help="one-per-transaction inserts")
    args = ap.parse_args()
    distinct = max(1, args.docs // 4)  # each node value matches 4 documents

    with tempfile.TemporaryDirectory(prefix="dms-bench-store-") as tmp:
        store = SQLiteStore(Path(tmp) / "bench.db")
        jobs = store.collection("jobs")

        t0 = time.perf_counter()
        for start in range(0, args.docs, args.batch):
            with store.transaction():
                for i in range(start, min(start + args.batch, args.docs)):
                    jobs.put(f"job-{i:07d}", doc(i, distinct))
        batched = args.docs / (time.perf_counter() - t0)
        print(f"inserted {args.docs} docs, {args.batch} per transaction: {batched:,.0f}/s")

        single_coll = store.collection("single")
        t0 = time.perf_counter()
        for i in range(args.single):
            single_coll.put(f"s-{i:07d}", doc(i, distinct))
        single = args.single / (time.perf_counter() - t0)
        print(f"inserted {args.single} docs, one per transaction: {single:,.0f}/s")

        q = Query(filter=Cond("node", "EQ", f"n{distinct // 2}"))
        rows = len(jobs.query(q))
        unindexed = median_ms(lambda: jobs.query(q), 15)
        plan_before = store.explain(*jobs.select_sql(q))
        t0 = time.perf_counter()
        jobs.ensure_index("node")
        index_s = time.perf_counter() - t0
        assert len(jobs.query(q)) == rows
        indexed = median_ms(lambda: jobs.query(q), 2000)
        plan_after = store.explain(*jobs.select_sql(q))
        print(f"query node == ... ({rows} rows of {args.docs}): unindexed {unindexed:.3f} ms "
              f"[{'; '.join(plan_before)}], indexed {indexed:.4f} ms [{'; '.join(plan_after)}], "
              f"index built in {index_s:.2f} s")
        store.close()

    print(json.dumps({
        "docs": args.docs,
        "insert_mode": f"batched, {args.batch} documents per transaction",
        "inserts_per_s": round(batched),
        "single_inserts_per_s": round(single),
        "query_rows": rows,
        "indexed_query_ms": round(indexed, 4),
        "unindexed_query_ms": round(unindexed, 3),
        "index_speedup": round(unindexed / indexed, 1),
        "index_build_s": round(index_s, 3),
        "journal": "WAL, synchronous=NORMAL",
    }))


if __name__ == "__main__":
    main()
