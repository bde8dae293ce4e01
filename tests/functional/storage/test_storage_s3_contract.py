"""The storage contract suite against S3Storage and a real S3 server (moto, loopback)."""

from __future__ import annotations

import pytest

from dms.storage.s3 import S3Storage
from dms.testing.storage_contract import StorageContract

pytestmark = pytest.mark.functional


@pytest.fixture
def storage(s3: S3Storage) -> S3Storage:
    return s3


@pytest.fixture
def base_url(bucket: str) -> str:
    return f"s3://{bucket}/"


class TestS3StorageContract(StorageContract):
    pass


class TestS3StorageContractBelowAPrefix(StorageContract):
    """The same suite below a key prefix instead of at the bucket's root."""

    @pytest.fixture
    def base_url(self, bucket: str) -> str:
        return f"s3://{bucket}/jobs/j-1/"
