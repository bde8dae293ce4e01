"""Fixtures for executor functional tests: a real dockerd and a registry-free image.

``docker_host`` starts (or reuses) the tests' own dockerd; ``busybox_image`` imports
the busybox test image into it. Both are idempotent across sessions. The contract
suite fixtures for docker (``executor``, ``restarted_executor``, ``make_workload``,
``recover_mode``, ``leftovers``) live in test_executor_docker_contract.py, next to
the class that uses them, so other executors' modules here can define their own.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator

import docker
import pytest

from dms.executor.docker import DockerExecutor, DockerSettings
from dms.testing.dockerd import ensure_dockerd
from dms.testing.images import ensure_busybox_image

OWNER = f"dms-functional-{os.getpid()}"


@pytest.fixture(scope="session")
def docker_host() -> Iterator[str]:
    url = ensure_dockerd()
    yield url
    # safety net: a test that died between start() and remove() leaves no container
    client = docker.APIClient(base_url=url)
    try:
        for c in client.containers(all=True, filters={"label": [f"dms.owner={OWNER}"]}):
            client.remove_container(c["Id"], force=True, v=True)
    finally:
        client.close()


@pytest.fixture(scope="session")
def busybox_image(docker_host: str) -> str:
    return ensure_busybox_image(docker_host)


@pytest.fixture
def docker_settings(docker_host: str) -> DockerSettings:
    return DockerSettings(base_url=docker_host, owner=OWNER, stop_grace_s=1)


@pytest.fixture
def docker_api(docker_host: str) -> Iterator[docker.APIClient]:
    client = docker.APIClient(base_url=docker_host)
    yield client
    client.close()


@pytest.fixture
def docker_executors(docker_settings: DockerSettings
                     ) -> Iterator[Callable[[], DockerExecutor]]:
    """A factory of executors on the test daemon; all are closed at teardown."""
    made: list[DockerExecutor] = []

    def make() -> DockerExecutor:
        made.append(DockerExecutor(docker_settings))
        return made[-1]

    yield make
    for ex in made:
        ex.close()


@pytest.fixture
def workload_id() -> Callable[[str], str]:
    return lambda kind: f"t-{kind}-{uuid.uuid4().hex[:10]}"
