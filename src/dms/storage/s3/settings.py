"""Settings of the S3 storage. The secret is a SecretStr: never in repr, logs or dumps."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr

MiB = 1024 * 1024


class S3Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    endpoint_url: str | None = Field(
        default=None, description="S3 endpoint, e.g. http://127.0.0.1:9000 for MinIO or moto. "
        "None = AWS's own endpoint for the region.")
    region: str = Field(default="us-east-1", description="Region to sign requests for.")
    access_key_id: str | None = Field(
        default=None, description="Access key id. None = boto3's default chain "
        "(AWS_ACCESS_KEY_ID, ~/.aws/credentials, instance role).")
    secret_access_key: SecretStr | None = Field(
        default=None, description="Secret access key (never logged or shown).")
    session_token: SecretStr | None = Field(default=None, description="Session token, for "
                                            "temporary credentials.")
    anonymous: bool = Field(default=False, description="Send unsigned requests (public buckets).")
    path_style: bool = Field(default=False, description="Path-style addressing "
                             "(endpoint/bucket/key) instead of virtual-hosted; MinIO and moto "
                             "need it.")
    multipart_threshold: int = Field(default=8 * MiB, ge=5 * MiB, description="Files at least "
                                     "this large move in parts (multipart upload, ranged gets).")
    multipart_chunksize: int = Field(default=8 * MiB, ge=5 * MiB, description="Size of one part.")
    max_concurrency: int = Field(default=8, ge=1, le=64, description="Parallel transfers "
                                 "(parts and files) of one fetch or put.")
    max_threads: int = Field(default=8, ge=1, le=64, description="Worker threads for "
                             "blocking S3 calls (the storage's CapacityLimiter).")
    connect_timeout_s: float = Field(default=5.0, gt=0, description="TCP connect timeout.")
    read_timeout_s: float = Field(default=60.0, gt=0, description="Socket read timeout.")
    max_attempts: int = Field(default=3, ge=1, le=10, description="Attempts per request "
                              "(botocore standard retry mode).")
