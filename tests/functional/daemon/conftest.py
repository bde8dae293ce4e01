from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dms.testing.daemon import Daemon, start_daemon


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Daemon]:
    d = start_daemon(tmp_path / "home")
    try:
        yield d
    finally:
        d.stop()
