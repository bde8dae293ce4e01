"""A full onboarding with benchmarks in a temporary home; prints one JSON object last.

    .venv/bin/python benchmarks/onboard.py [--cpu 1] [--ram 1GiB] [--disk 2GiB] [--budget 15]

``onboard_s`` is the wall time of ``Onboarding.onboard`` (discovery + validation +
benchmark + storing) on a fresh SQLite store, so the benchmark always runs.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from dms.resources import BenchmarkConfig, Onboarding
from dms.store import open_store


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cpu", default="1")
    ap.add_argument("--ram", default="1GiB")
    ap.add_argument("--disk", default="2GiB")
    ap.add_argument("--budget", type=float, default=BenchmarkConfig().budget_s)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="dms-onboard-") as tmp:
        home = Path(tmp)
        (home / "work").mkdir()
        store = open_store(home / "store.db")
        ob = Onboarding(store, home / "work", benchmark_config=BenchmarkConfig(budget_s=args.budget))
        start = time.perf_counter()
        st = ob.onboard(args.cpu, args.ram, args.disk,
                        progress=lambda p: print(p.line(), file=sys.stderr, flush=True))
        onboard_s = time.perf_counter() - start
        bench = st.benchmark
        hw = ob.hardware()
        out = {
            "onboard_s": round(onboard_s, 2),
            "benchmark_s": round(bench.duration_s, 2) if bench else None,
            "budget_s": args.budget,
            "scores": bench.to_dict() if bench else None,
            "onboarded": st.resources.onboarded.to_dict() if st.resources.onboarded else None,
            "hardware": {"cpu": hw.cpu.model, "threads": hw.cpu.threads, "ram": hw.ram.size,
                         "work_disk": hw.work_disk.type, "gpus": len(hw.gpus),
                         "notes": list(hw.notes)},
        }
        store.close()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
