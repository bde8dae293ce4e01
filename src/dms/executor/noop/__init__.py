"""The noop executor: in-memory workloads with injectable behavior, for tests."""

from __future__ import annotations

from typing import Any

from dms.executor.noop.behavior import Emit, NoopBehavior
from dms.executor.noop.executor import NoopBackend, NoopExecutor

__all__ = ["Emit", "NoopBackend", "NoopBehavior", "NoopExecutor", "build"]


def build(settings: Any = None) -> NoopExecutor:
    """Registry entry point; ``settings`` is ignored (behavior is injected by tests)."""
    return NoopExecutor()
