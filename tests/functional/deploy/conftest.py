from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dms.testing.cluster import Cluster, start_cluster


@pytest.fixture(scope="session")
def docker_env() -> dict[str, str]:
    """DOCKER_HOST of the dedicated test dockerd, with the busybox test image built."""
    from dms.testing.dockerd import ensure_dockerd
    from dms.testing.images import ensure_busybox_image

    host = ensure_dockerd()
    ensure_busybox_image(host)
    return {"DOCKER_HOST": host}


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory, docker_env: dict[str, str]) -> Iterator[Cluster]:
    """Alice (node 0, not onboarded) and two providers, Bob and Carol (1 core each)."""
    base: Path = tmp_path_factory.mktemp("deploy")
    c = start_cluster(base, 3, env=docker_env, onboard_nodes=(1, 2))
    try:
        yield c
    finally:
        c.stop()
