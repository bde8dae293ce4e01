"""The Docker executor: workloads as containers on a Docker Engine.

    driver       DockerExecutor: start / wait / cancel / logs / remove / recover
    config       DockerSettings and the pure spec -> Engine API arguments
    state        container labels: what survives a dms restart
    handle       log frames -> lines
    fingerprint  capabilities: cgroup version, GPU vendors, runtimes
"""

from __future__ import annotations

from typing import Any

from dms.executor.docker.config import DockerSettings, create_args
from dms.executor.docker.driver import DockerExecutor
from dms.executor.registry import parse_settings

__all__ = ["DockerExecutor", "DockerSettings", "build", "create_args"]


def build(settings: Any = None) -> DockerExecutor:
    """Registry entry point: ``settings`` is a DockerSettings, a dict of its fields, or None."""
    return DockerExecutor(parse_settings(DockerSettings, settings, "docker"))
