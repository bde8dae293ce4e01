"""Fixtures for the npm @ucans/ucans interop tests: node and tests/interop/node_modules."""

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

INTEROP = Path(__file__).resolve().parents[2] / "interop"


class UcansJs:
    def __init__(self, node: str) -> None:
        self.node = node

    def issue(self, **args: Any) -> dict[str, Any]:
        out = subprocess.run([self.node, "ucan_issue.mjs", json.dumps(args)], cwd=INTEROP,
                             capture_output=True, text=True, timeout=60, check=True)
        return json.loads(out.stdout)  # type: ignore[no-any-return]

    def validate(self, *tokens: str) -> list[dict[str, Any]]:
        out = subprocess.run([self.node, "ucan_validate.mjs", *tokens], cwd=INTEROP,
                             capture_output=True, text=True, timeout=60, check=True)
        return [json.loads(line) for line in out.stdout.splitlines()]


@pytest.fixture(scope="session")
def ucans_js() -> UcansJs:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.fail("node/npm are not installed: install Node.js 20 (Debian `nodejs npm`) "
                    "to run the @ucans/ucans interop tests")
    if not (INTEROP / "node_modules" / "@ucans" / "ucans").is_dir():
        # idempotent: scripts/setup normally did this already
        r = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=INTEROP,
                           capture_output=True, text=True, timeout=600)
        if r.returncode != 0:
            pytest.fail(f"`npm ci` in {INTEROP} failed:\n{r.stderr[-2000:]}")
    return UcansJs(node)
