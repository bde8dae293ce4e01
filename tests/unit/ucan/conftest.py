from pathlib import Path

import pytest

from dms.crypto.keys import SigningKey
from dms.ucan import CapabilityContext


@pytest.fixture
def make_ctx(tmp_path: Path):  # type: ignore[no-untyped-def]
    def make(name: str, key: SigningKey | None = None) -> CapabilityContext:
        return CapabilityContext.load(tmp_path / "cap" / f"{name}.json", key or SigningKey.generate())
    return make


@pytest.fixture
def node(make_ctx) -> CapabilityContext:  # type: ignore[no-untyped-def]
    return make_ctx("node")


@pytest.fixture
def alice(make_ctx) -> CapabilityContext:  # type: ignore[no-untyped-def]
    return make_ctx("alice")


@pytest.fixture
def bob(make_ctx) -> CapabilityContext:  # type: ignore[no-untyped-def]
    return make_ctx("bob")
