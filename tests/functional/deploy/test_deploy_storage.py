"""Inputs fetched from S3 before a workload starts, outputs uploaded after it ends (real
moto S3 server, real daemons, real dockerd)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dms.testing.cluster import start_cluster
from dms.testing.images import BUSYBOX_IMAGE
from dms.testing.s3 import running_s3

pytestmark = [pytest.mark.functional, pytest.mark.docker, pytest.mark.slow]


def test_inputs_from_s3_and_outputs_to_s3(tmp_path: Path, docker_env: dict[str, str]) -> None:
    with running_s3() as s3:
        client = s3.client()
        client.create_bucket(Bucket="jobs")
        client.put_object(Bucket="jobs", Key="in/words.txt", Body=b"hello storage\n")
        creds = ["--set", f"storage.s3.endpoint_url={s3.endpoint_url}",
                 "--set", "storage.s3.path_style=true",
                 "--set", f"storage.s3.access_key_id={s3.access_key_id}",
                 "--set", f"storage.s3.secret_access_key={s3.secret_access_key}"]
        c = start_cluster(tmp_path, 2, env=docker_env, onboard_nodes=(1,), extra=creds)
        try:
            ens = f"""version: V1
allocations:
  shout:
    type: task
    executor: docker
    resources: {{cpu: {{cores: 0.5}}, ram: {{size: 64MiB}}, disk: {{size: 64MiB}}}}
    execution:
      type: docker
      image: "{BUSYBOX_IMAGE}"
      cmd: ["sh", "-c", "tr a-z A-Z < /inputs/words.txt > /results/loud.txt"]
    inputs: [{{url: "s3://jobs/in/words.txt", path: /inputs/words.txt}}]
    outputs: [{{url: "s3://jobs/out/", path: /results/loud.txt}}]
  missing:
    type: task
    executor: docker
    resources: {{cpu: {{cores: 0.25}}, ram: {{size: 64MiB}}, disk: {{size: 64MiB}}}}
    execution: {{type: docker, image: "{BUSYBOX_IMAGE}", cmd: ["true"]}}
    inputs: [{{url: "s3://jobs/in/nope.txt", path: nope.txt}}]
nodes:
  n1:
    allocations: [shout, missing]
"""
            f = tmp_path / "s3.yaml"
            f.write_text(ens)
            r = c[0].cli("deploy", "-f", str(f), "--json", timeout=120)
            out = json.loads(r.stdout)
            assert out["allocations"]["shout"]["status"] == "completed", out
            body = client.get_object(Bucket="jobs", Key="out/loud.txt")["Body"].read()
            assert body == b"HELLO STORAGE\n"
            # a missing input fails that allocation with the URL and the reason
            miss = out["allocations"]["missing"]
            assert miss["status"] == "failed"
            assert "could not fetch input s3://jobs/in/nope.txt" in miss["reason"]
            assert out["status"] == "Failed"
            # the secret never reaches the provider's log
            for d in c.nodes:
                assert s3.secret_access_key not in d.log()
        finally:
            c.stop()
