from __future__ import annotations

import pytest

from dms.store import MemoryStore


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()
