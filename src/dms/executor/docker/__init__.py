"""The Docker executor: workloads as containers on a Docker Engine.

    driver       DockerExecutor: start / wait / cancel / logs / remove / recover
    config       DockerSettings and the pure spec -> Engine API arguments
    state        container labels: what survives a dms restart
    handle       log frames -> lines
    fingerprint  capabilities: cgroup version, GPU vendors, runtimes
"""

from __future__ import annotations

from typing import Any

import pydantic

from dms.errors import ConfigError
from dms.executor.docker.config import DockerSettings, create_args
from dms.executor.docker.driver import DockerExecutor

__all__ = ["DockerExecutor", "DockerSettings", "build", "create_args"]


def build(settings: Any = None) -> DockerExecutor:
    """Registry entry point: ``settings`` is a DockerSettings, a dict of its fields, or None."""
    if settings is None or isinstance(settings, DockerSettings):
        return DockerExecutor(settings)
    try:
        if isinstance(settings, dict):
            return DockerExecutor(DockerSettings.model_validate(settings))
        return DockerExecutor(DockerSettings.model_validate(settings, from_attributes=True))
    except pydantic.ValidationError as exc:
        fields = ", ".join(DockerSettings.model_fields)
        raise ConfigError(f"bad docker executor settings: {exc}",
                          hint=f"the docker section takes: {fields}") from exc
