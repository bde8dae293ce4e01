"""Time from starting `dms run` to a healthy answer, median over 5 starts.

Baseline in the same run: the time for the same Python to start and import nothing but
the CLI entry (`python -m dms.cli.main version`), so a slow machine shows as a slow
baseline rather than a slow daemon. The first start (which creates keys) is reported
apart from the warm restarts.

Prints one JSON object as its last line: {"ready_s": ..., ...}.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from dms.testing.daemon import base_env, dms_argv, start_daemon

RUNS = 5
# embedded defaults, except a free p2p port instead of 9000 (mDNS stays on, as by default)
ARGS = ["--set", "network.mdns=true"]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        t0 = time.monotonic()
        d = start_daemon(home, args=ARGS)
        first = time.monotonic() - t0
        d.stop()
        times = []
        for _ in range(RUNS):
            t0 = time.monotonic()
            d = start_daemon(home, args=ARGS)
            times.append(time.monotonic() - t0)
            d.stop()
            print(f"start: ready in {times[-1]:.3f}s", file=sys.stderr)
        base = []
        for _ in range(3):
            t0 = time.monotonic()
            subprocess.run([*dms_argv(), "version"], env=base_env(home), check=True,
                           capture_output=True)
            base.append(time.monotonic() - t0)
    ready = statistics.median(times)
    cli = statistics.median(base)
    print(json.dumps({"ready_s": round(ready, 3), "ready_max_s": round(max(times), 3),
                      "first_start_s": round(first, 3), "cli_version_s": round(cli, 3),
                      "ready_over_cli_ratio": round(ready / cli, 2), "runs": RUNS}))


if __name__ == "__main__":
    main()
