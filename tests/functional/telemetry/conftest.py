from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator

import pytest

from dms.testing.daemon import Daemon, start_daemon


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    # a short benchmark budget so the test can onboard in a few seconds
    d = start_daemon(tmp_path_factory.mktemp("telemetry") / "home",
                     args=["--set", "onboarding.benchmark_budget_s=1"])
    try:
        yield d
    finally:
        d.stop()


@pytest.fixture(scope="session")
def prometheus_bin() -> str:
    """Debian's `prometheus`, installed when missing (as root), like scripts/setup does.

    Installing may start the package's own service on :9090 on some machines: the tests
    never use it and leave it alone (they run their own Prometheus on a free port)."""
    found = shutil.which("prometheus")
    if found:
        return found
    if os.geteuid() != 0:
        pytest.fail("Prometheus is not installed: run `apt-get install -y prometheus` as root "
                    "(or scripts/setup)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update"], ["apt-get", "install", "-y", "--no-install-recommends",
                                        "prometheus"]):
        r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
        if r.returncode != 0 and cmd[1] == "install":
            pytest.fail(f"`{' '.join(cmd)}` failed:\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}")
    found = shutil.which("prometheus")
    if not found:
        pytest.fail("apt-get installed `prometheus` but it is not on PATH")
    return found

