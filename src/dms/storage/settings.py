"""The storage section of the config tree (``storage.local``, ``storage.s3``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from dms.storage.local.settings import LocalSettings
from dms.storage.s3.settings import S3Settings


class StorageSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    local: LocalSettings = Field(default_factory=LocalSettings,
                                 description="file:// and plain-path inputs and outputs.")
    s3: S3Settings = Field(default_factory=S3Settings, description="s3:// inputs and outputs.")
