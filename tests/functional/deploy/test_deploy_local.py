"""A lone onboarded node runs what it deploys itself (deployment.local_bids), over the
same bid/commit/allocate protocol as with any other provider; turned off, it asks
only other nodes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dms.testing.cluster import cluster, onboard

pytestmark = [pytest.mark.functional, pytest.mark.slow]


def _ensemble(tmp_path: Path) -> Path:
    from dms.executor.wasm.examples import hello_wat

    mod = tmp_path / "hello.wat"
    mod.write_text(hello_wat(stdout="ran on myself\n"))
    ens = tmp_path / "self.yaml"
    ens.write_text(f"""version: V1
allocations:
  me:
    type: task
    executor: wasm
    resources: {{cpu: {{cores: 0.25}}, ram: {{size: 64MiB}}, disk: {{size: 16MiB}}}}
    execution: {{type: wasm, module: "{mod}"}}
nodes:
  n1: {{allocations: [me]}}
""")
    return ens


def test_a_lone_onboarded_node_deploys_onto_itself(tmp_path: Path) -> None:
    with cluster(tmp_path / "c", 1) as c:
        node = c[0]
        onboard(node)
        r = node.cli("deploy", "-f", str(_ensemble(tmp_path)), "--json", timeout=120)
        assert r.returncode == 0, r.stderr + r.stdout
        out = json.loads(r.stdout)
        assert out["status"] == "Completed"
        assert out["nodes"]["n1"] == c.info[0]["peer_id"]
        assert out["logs"]["me"]["stdout"] == "ran on myself\n"
        held = json.loads(node.cli("resources", "allocated", "--json").stdout)
        assert held == {"allocated": {}, "committed": {}}, held  # all released


def test_local_bids_off_asks_only_other_nodes(tmp_path: Path) -> None:
    with cluster(tmp_path / "c", 1, extra=["--set", "deployment.local_bids=false"]) as c:
        node = c[0]
        onboard(node)
        r = node.cli("deploy", "-f", str(_ensemble(tmp_path)), "--json", "--timeout", "3",
                     timeout=120)
        assert r.returncode != 0
        assert "no bids" in (r.stderr + r.stdout), r.stderr + r.stdout
