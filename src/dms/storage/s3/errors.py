"""Translation of botocore's exceptions into dms errors, at the S3 boundary."""

from __future__ import annotations

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
    ReadTimeoutError,
)

from dms.errors import AuthError, DMSError, NetworkError, NotFound, Timeout
from dms.storage.errors import StorageError

_AUTH_CODES = frozenset({"403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch",
                         "ExpiredToken", "InvalidToken", "TokenRefreshRequired",
                         "AllAccessDisabled", "InvalidClientTokenId"})
_MISSING_OBJECT = frozenset({"404", "NoSuchKey", "NotFound"})


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def translate(exc: BaseException, url: str, creds: str, endpoint: str) -> DMSError:
    """The dms error for ``exc`` raised while working on ``url``.

    ``creds`` names where the credentials came from (never their value).
    """
    if isinstance(exc, DMSError):
        return exc
    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        return AuthError(f"no S3 credentials for {url}",
                         hint="set storage.s3.access_key_id and secret_access_key, or "
                              "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, or "
                              "storage.s3.anonymous for a public bucket")
    if isinstance(exc, (ConnectTimeoutError, ReadTimeoutError)):
        return Timeout(f"S3 endpoint {endpoint} timed out on {url}",
                       hint="check the endpoint is up and reachable; raise "
                            "storage.s3.read_timeout_s for slow links")
    if isinstance(exc, EndpointConnectionError):
        return NetworkError(f"cannot reach S3 endpoint {endpoint} for {url}",
                            hint="check storage.s3.endpoint_url and that the server is running "
                                 "and reachable from this machine")
    if isinstance(exc, ClientError):
        code = error_code(exc)
        msg = str(exc.response.get("Error", {}).get("Message", "")) or code
        if code == "NoSuchBucket":
            bucket = exc.response.get("Error", {}).get("BucketName") or url[5:].split("/")[0]
            return NotFound(f"S3 bucket {bucket!r} of {url} does not exist",
                            hint="create the bucket or correct the bucket name in the URL")
        if code in _MISSING_OBJECT:
            return NotFound(f"no S3 object at {url}",
                            hint="check the key; a URL ending in '/' names a prefix")
        if code in _AUTH_CODES:
            return AuthError(f"S3 refused the credentials for {url} ({code}: {msg})",
                             hint=f"credentials came from {creds}; check the key pair and "
                                  "that it may access this bucket")
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        if status >= 500 or code in ("SlowDown", "RequestTimeout"):
            return NetworkError(f"S3 failed on {url} ({code}: {msg})",
                                hint="a server-side failure; retry later")
        return StorageError(f"S3 refused the request on {url} ({code}: {msg})",
                            hint="check the URL and the bucket's configuration")
    if isinstance(exc, BotoCoreError):
        return StorageError(f"S3 client error on {url}: {exc}",
                            hint=f"check storage.s3 settings (endpoint {endpoint})")
    return StorageError(f"S3 transfer of {url} failed: {type(exc).__name__}: {exc}",
                        hint="see the daemon log for details")
