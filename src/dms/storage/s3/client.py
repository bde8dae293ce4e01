"""A boto3 S3 client and transfer config from :class:`S3Settings` (blocking: call in a thread)."""

from __future__ import annotations

from typing import Any

import boto3
from boto3.s3.transfer import TransferConfig
from botocore import UNSIGNED
from botocore.config import Config

from dms.storage.s3.settings import S3Settings


def make_client(settings: S3Settings) -> tuple[Any, str]:
    """(client, credentials source). The source is a description, never a secret."""
    secret = settings.secret_access_key.get_secret_value() if settings.secret_access_key else None
    token = settings.session_token.get_secret_value() if settings.session_token else None
    session = boto3.session.Session(
        aws_access_key_id=settings.access_key_id if secret else None,
        aws_secret_access_key=secret, aws_session_token=token, region_name=settings.region)
    config = Config(
        region_name=settings.region,
        connect_timeout=settings.connect_timeout_s, read_timeout=settings.read_timeout_s,
        retries={"max_attempts": settings.max_attempts, "mode": "standard"},
        max_pool_connections=max(10, settings.max_concurrency * 2),
        s3={"addressing_style": "path" if settings.path_style else "auto"},
        **({"signature_version": UNSIGNED} if settings.anonymous else {}))
    client = session.client("s3", endpoint_url=settings.endpoint_url, config=config)
    return client, credentials_source(settings, session)


def credentials_source(settings: S3Settings, session: Any) -> str:
    if settings.anonymous:
        return "nowhere (storage.s3.anonymous: unsigned requests)"
    if settings.secret_access_key is not None:
        return f"storage.s3 settings (access key id {mask(settings.access_key_id)})"
    creds = session.get_credentials()
    if creds is None:
        return "nowhere (boto3's default chain found none)"
    return f"boto3's default chain ({creds.method}, access key id {mask(creds.access_key)})"


def mask(key_id: str | None) -> str:
    if not key_id:
        return "unset"
    return key_id[:4] + "…" if len(key_id) > 8 else "…"


def transfer_config(settings: S3Settings) -> TransferConfig:
    return TransferConfig(multipart_threshold=settings.multipart_threshold,
                          multipart_chunksize=settings.multipart_chunksize,
                          max_concurrency=settings.max_concurrency, use_threads=True)
