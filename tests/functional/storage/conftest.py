from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from dms.storage.s3 import S3Storage
from dms.testing.s3 import S3Server, start_s3


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """One moto S3 server (credentials checked) for the session, stopped after it."""
    server, stop = start_s3()
    try:
        yield server
    finally:
        stop()


@pytest.fixture
def bucket(s3_server: S3Server) -> str:
    name = f"dms-test-{uuid.uuid4().hex[:12]}"
    s3_server.client().create_bucket(Bucket=name)
    return name


@pytest.fixture
def s3(s3_server: S3Server) -> Iterator[S3Storage]:
    storage = S3Storage(s3_server.settings())
    yield storage
    storage.close()


@pytest.fixture
def raw(s3_server: S3Server) -> Any:
    return s3_server.client()
