from __future__ import annotations

from pathlib import Path

import pytest

from dms.storage.local import LocalSettings, LocalStorage


@pytest.fixture
def root(tmp_path: Path) -> Path:
    r = tmp_path / "root"
    r.mkdir()
    return r


@pytest.fixture
def local(root: Path) -> LocalStorage:
    return LocalStorage(LocalSettings(allowed_roots=[str(root)]))
