"""The executor registry and the explicit wiring function."""

from __future__ import annotations

from typing import Any

import pytest

import dms.executor
from dms.errors import ConfigError, ExecutorError
from dms.executor import ExecutorRegistry, default_executors
from dms.executor.noop import NoopExecutor

pytestmark = pytest.mark.unit


class _Broken(NoopExecutor):
    name = "broken"

    def is_installed(self) -> bool:
        raise OSError("probe exploded")


class _Other(NoopExecutor):
    name = "other"

    def capabilities(self) -> dict[str, Any]:
        return {"x": 1}


def test_public_surface_is_pinned() -> None:
    assert sorted(dms.executor.__all__) == sorted([
        "DEFAULT_ENABLED", "Executor", "ExecutorRegistry", "ExitStatus", "GPURequest",
        "Handle", "Limits", "LogLine", "SupportsExec", "SupportsStats", "WorkloadSpec",
        "default_executors"])


def test_register_and_get() -> None:
    noop = NoopExecutor()
    reg = ExecutorRegistry([noop])
    assert reg.get("noop") is noop
    assert "noop" in reg and len(reg) == 1 and list(reg) == [noop]
    assert reg.names() == ["noop"]


def test_duplicate_name_is_refused_unless_replacing() -> None:
    reg = ExecutorRegistry([NoopExecutor()])
    with pytest.raises(ConfigError, match="already registered"):
        reg.register(NoopExecutor())
    newer = NoopExecutor()
    reg.register(newer, replace=True)
    assert reg.get("noop") is newer


def test_unknown_name_says_what_exists() -> None:
    reg = ExecutorRegistry([NoopExecutor()])
    with pytest.raises(ExecutorError) as info:
        reg.get("docker")
    assert info.value.code == "executor_unknown"
    assert "noop" in info.value.hint


def test_available_lists_only_installed_executors() -> None:
    reg = ExecutorRegistry([NoopExecutor(installed=False), _Other(), _Broken()])
    assert reg.available() == {"other": {"x": 1}}


async def test_probe_runs_off_the_loop() -> None:
    reg = ExecutorRegistry([_Other()])
    assert await reg.probe() == {"other": {"x": 1}}


def test_default_executors_builds_what_is_enabled() -> None:
    built = default_executors({"enabled": ["noop"]})
    assert [e.name for e in built] == ["noop"]


def test_default_executors_builds_docker_from_its_section() -> None:
    from dms.executor.docker import DockerExecutor, DockerSettings

    section = DockerSettings(base_url="unix:///nowhere.sock")
    (docker,) = default_executors({"enabled": ["docker"], "docker": section})
    assert isinstance(docker, DockerExecutor)
    assert docker.settings.base_url == "unix:///nowhere.sock"
    assert not docker.is_installed()  # no daemon at that socket


def test_default_executors_rejects_unknown_names() -> None:
    with pytest.raises(ConfigError, match="unknown executor"):
        default_executors({"enabled": ["podman"]})


def test_bad_docker_section_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="bad docker executor settings") as info:
        default_executors({"enabled": ["docker"], "docker": {"base_ulr": "unix:///x"}})
    assert "base_url" in info.value.hint
