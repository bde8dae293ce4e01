"""Project-wide test configuration.

Area fixtures live beside their tests (tests/unit/<area>/conftest.py, ...). Every test
must carry one of the stage markers `unit`, `functional` or `acceptance`: a test without
one would silently run in no CI stage, so collection fails instead.
"""

from __future__ import annotations

from pathlib import Path

import pytest

STAGES = ("unit", "functional", "acceptance")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    unmarked = [i.nodeid for i in items if not any(i.get_closest_marker(s) for s in STAGES)]
    if unmarked:
        raise pytest.UsageError(
            "tests without a stage marker (unit/functional/acceptance) would run in no CI "
            "stage:\n  " + "\n  ".join(unmarked[:20]))


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A fresh DMS_HOME for one test."""
    h = tmp_path / "home"
    h.mkdir()
    return h
