"""A real daemon's /metrics: parsed by prometheus_client, and scraped by a real Prometheus.

    dms run (127.0.0.1:<api port>) ◀──GET /metrics every 1 s── prometheus (127.0.0.1:<free port>)
                                                                    ▲
                                              test ──/api/v1/query──┘
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from dms.testing.daemon import Daemon, free_port

pytestmark = [pytest.mark.functional, pytest.mark.slow]

Samples = dict[str, dict[tuple[tuple[str, str], ...], float]]


def scrape(url: str) -> tuple[str, Samples]:
    r = httpx.get(url + "/metrics", timeout=10)
    r.raise_for_status()
    out: Samples = {}
    for fam in text_string_to_metric_families(r.text):
        for s in fam.samples:
            out.setdefault(s.name, {})[tuple(sorted(s.labels.items()))] = s.value
    return r.headers["content-type"], out


def by(samples: Samples, name: str, label: str) -> dict[str, float]:
    return {dict(k)[label]: v for k, v in samples[name].items()}


def test_daemon_metrics_parse_and_follow_its_state(daemon: Daemon) -> None:
    status = httpx.get(daemon.url + "/api/v1/status", timeout=10).json()
    ctype, got = scrape(daemon.url)
    assert ctype.startswith("text/plain")
    assert got["dms_info"] == {(("did", status["did"]), ("peer_id", status["peer_id"]),
                                ("version", status["version"])): 1}
    assert got["dms_uptime_seconds"][()] > 0
    assert got["dms_peers_connected"] == {(): 0}
    assert set(by(got, "dms_deployments", "status").values()) == {0}
    assert "Running" in by(got, "dms_deployments", "status")
    assert set(by(got, "dms_allocations", "status").values()) == {0}
    assert by(got, "dms_resources_cores", "kind") == {"onboarded": 0, "free": 0}
    assert got["process_resident_memory_bytes"][()] > 0
    assert "process_cpu_seconds_total" in got

    # onboard, then the same endpoint reports the offered resources
    r = daemon.cli("onboard", "--cpu", "1", "--ram", "1GiB", "--disk", "2GiB", timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    _, after = scrape(daemon.url)
    assert by(after, "dms_resources_cores", "kind") == {"onboarded": 1, "free": 1}
    assert after["dms_resources_bytes"][(("kind", "onboarded"), ("resource", "ram"))] == 2**30
    assert after["dms_resources_bytes"][(("kind", "free"), ("resource", "disk"))] == 2 * 2**30
    assert after["dms_uptime_seconds"][()] > got["dms_uptime_seconds"][()]


def query(base: str, promql: str) -> list[dict[str, Any]]:
    r = httpx.get(base + "/api/v1/query", params={"query": promql}, timeout=5)
    r.raise_for_status()
    body = r.json()
    assert body["status"] == "success", body
    return list(body["data"]["result"])


def wait_for(base: str, promql: str, proc: subprocess.Popen[bytes], log: Path,
             timeout: float = 60) -> list[dict[str, Any]]:
    """The first non-empty result of ``promql`` (Prometheus needs a scrape or two)."""
    end = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            pytest.fail(f"prometheus exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            result = query(base, promql)
        except httpx.TransportError:
            result = []  # not listening yet
        if result:
            return result
        if time.monotonic() > end:
            targets = httpx.get(base + "/api/v1/targets", timeout=5).text
            pytest.fail(f"no result for {promql} within {timeout}s; targets: {targets[:2000]}\n"
                        f"log: {log.read_text()[-2000:]}")
        time.sleep(0.25)


def write_config(path: Path, target: str) -> Path:
    path.write_text(
        "global:\n"
        "  scrape_interval: 1s\n"
        "  scrape_timeout: 1s\n"
        "scrape_configs:\n"
        "  - job_name: dms\n"
        "    static_configs:\n"
        f"      - targets: ['{target}']\n")
    return path


@pytest.mark.timeout(300)  # includes installing prometheus on a fresh machine
def test_real_prometheus_scrapes_the_daemon(daemon: Daemon, prometheus_bin: str,
                                            tmp_path: Path) -> None:
    target = f"127.0.0.1:{daemon.api_port}"
    config = write_config(tmp_path / "prometheus.yml", target)
    port = free_port()
    log = tmp_path / "prometheus.log"
    with log.open("wb") as logf:
        proc = subprocess.Popen(
            [prometheus_bin, f"--config.file={config}",
             f"--storage.tsdb.path={tmp_path / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{port}"],
            stdout=logf, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        up = wait_for(base, 'up{job="dms"} == 1', proc, log)
        assert [(u["metric"]["instance"], u["value"][1]) for u in up] == [(target, "1")]
        uptime = wait_for(base, 'dms_uptime_seconds{job="dms"}', proc, log)
        assert len(uptime) == 1 and float(uptime[0]["value"][1]) > 0
        info = query(base, "dms_info")
        did = httpx.get(daemon.url + "/api/v1/status", timeout=10).json()["did"]
        assert [i["metric"]["did"] for i in info] == [did]
        targets = httpx.get(base + "/api/v1/targets", timeout=5).json()["data"]["activeTargets"]
        assert [(t["scrapeUrl"], t["health"], t["lastError"]) for t in targets] == [
            (f"http://{target}/metrics", "up", "")]
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
