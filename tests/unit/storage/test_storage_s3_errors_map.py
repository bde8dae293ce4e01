"""botocore errors become dms errors with a message and a hint (pure translation)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

from dms.errors import AuthError, NetworkError, NotFound
from dms.storage import StorageError
from dms.storage.s3.errors import translate

pytestmark = pytest.mark.unit

URL = "s3://bkt/k"


def client_error(code: str, status: int = 400, **extra: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "msg", **extra},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, "GetObject")


@pytest.mark.parametrize(("exc", "cls"), [
    (client_error("NoSuchBucket", 404), NotFound),
    (client_error("NoSuchKey", 404), NotFound),
    (client_error("404", 404), NotFound),
    (client_error("AccessDenied", 403), AuthError),
    (client_error("InvalidAccessKeyId", 403), AuthError),
    (client_error("SignatureDoesNotMatch", 403), AuthError),
    (client_error("403", 403), AuthError),
    (client_error("InternalError", 500), NetworkError),
    (client_error("InvalidRequest", 400), StorageError),
    (EndpointConnectionError(endpoint_url="http://127.0.0.1:1"), NetworkError),
    (NoCredentialsError(), AuthError),
])
def test_translation(exc: Exception, cls: type) -> None:
    err = translate(exc, URL, "storage.s3 settings (access key id AKIA…)", "http://e")
    assert type(err) is cls, err
    assert URL in err.message and err.hint


def test_auth_errors_name_the_credentials_source() -> None:
    err = translate(client_error("AccessDenied", 403), URL, "boto3's default chain (env)", "e")
    assert "boto3's default chain (env)" in err.hint


def test_missing_bucket_names_it() -> None:
    err = translate(client_error("NoSuchBucket", 404, BucketName="bkt"), URL, "c", "e")
    assert "'bkt'" in err.message
