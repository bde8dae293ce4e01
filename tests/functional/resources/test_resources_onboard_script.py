from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.functional
ROOT = Path(__file__).resolve().parents[3]


def test_benchmarks_onboard_prints_json_last() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "onboard.py"), "--budget", "1"],
                          capture_output=True, text=True, timeout=120, check=True)
    last = done.stdout.strip().splitlines()[-1]
    out = json.loads(last)
    assert out["onboard_s"] > 0 and out["budget_s"] == 1
    scores = out["scores"]
    for key in ("cpu_single_ops", "cpu_multi_ops", "memory_copy_gbps", "disk_write_mbps",
                "disk_read_mbps", "disk_iops"):
        assert scores[key] > 0, key
    assert out["onboarded"]["cpu"]["cores"] == 1
    assert "[1/5] CPU single-thread" in done.stderr
