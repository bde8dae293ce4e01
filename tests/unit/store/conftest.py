"""Fixtures for the store tests: every contract test runs against both implementations."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dms.store import MemoryStore, SQLiteStore, Store


class FakeClock:
    """A clock that ticks one second per reading, so history timestamps are predictable."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    clock = FakeClock()
    s: Store
    if request.param == "memory":
        s = MemoryStore(clock=clock)
    else:
        s = SQLiteStore(tmp_path / "store.db", clock=clock)
    yield s
    s.close()
