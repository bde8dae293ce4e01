from __future__ import annotations

import pytest
from pydantic import SecretStr

import dms.storage
from dms.errors import ValidationError
from dms.storage import S3Settings, StorageSettings, open_storage
from dms.storage.local import LocalStorage
from dms.storage.s3 import S3Storage

pytestmark = pytest.mark.unit


def test_public_surface() -> None:
    assert sorted(dms.storage.__all__) == sorted([
        "LocalSettings", "PathRefused", "Progress", "S3Settings", "STORAGES", "Storage",
        "StorageError", "StorageSettings", "confine_relative", "open_storage", "storage_type"])
    assert sorted(dms.storage.STORAGES) == ["local", "s3"]


def test_open_storage_picks_by_scheme() -> None:
    assert isinstance(open_storage("s3://bkt/k"), S3Storage)
    assert isinstance(open_storage("file:///tmp/x"), LocalStorage)
    assert isinstance(open_storage("/tmp/x"), LocalStorage)
    assert isinstance(open_storage("s3://bkt/k"), dms.storage.Storage)
    settings = StorageSettings.model_validate({"local": {"allowed_roots": ["/srv/data"]}})
    local = open_storage("/srv/data/x", settings)
    assert isinstance(local, LocalStorage) and [str(r) for r in local.roots] == ["/srv/data"]


@pytest.mark.parametrize("url", ["http://example.com/x", "gs://bkt/k", "ftp://h/x"])
def test_unknown_schemes_list_the_supported_ones(url: str) -> None:
    with pytest.raises(ValidationError) as info:
        open_storage(url)
    assert "s3://bucket/key" in info.value.hint and "file:///abs/path" in info.value.hint


def test_the_secret_never_shows() -> None:
    s = S3Settings(access_key_id="AKIAEXAMPLE123", secret_access_key=SecretStr("s3cr3t-value"))
    storage = S3Storage(s)
    for text in (repr(s), str(s), repr(storage), s.model_dump_json(), str(s.model_dump())):
        assert "s3cr3t-value" not in text, text


def test_settings_refuse_unknown_keys_and_tiny_parts() -> None:
    with pytest.raises(ValueError):
        S3Settings.model_validate({"endpoint": "x"})
    with pytest.raises(ValueError):
        S3Settings(multipart_chunksize=1024)
