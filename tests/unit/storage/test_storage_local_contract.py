"""The storage contract suite against LocalStorage (a real filesystem, no services)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dms.storage.local import LocalStorage
from dms.testing.storage_contract import StorageContract

pytestmark = pytest.mark.unit


@pytest.fixture
def storage(local: LocalStorage) -> LocalStorage:
    return local


@pytest.fixture
def base_url(root: Path) -> str:
    return root.as_uri() + "/"


class TestLocalStorageContract(StorageContract):
    pass


class TestLocalStorageContractPlainPaths(StorageContract):
    """The same suite with plain absolute paths instead of file:// URLs."""

    @pytest.fixture
    def base_url(self, root: Path) -> str:
        return str(root) + "/"
