"""The config tree: every field, its default and what it means, in one place.

Sections owned by other packages (network, executors, ...) are their own pydantic
models, imported here so the whole tree validates at once.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ApiSettings(Section):
    host: str = Field("127.0.0.1", description="Address the local REST API binds to. "
                      "Only loopback addresses are accepted: the API never answers remote peers.")
    port: int = Field(9999, ge=0, le=65535, description="TCP port of the local REST API (0 = any free port).")


class LogSettings(Section):
    level: Literal["debug", "info", "warning", "error"] = Field("info", description="Log level.")
    json_format: bool = Field(False, description="Write logs as JSON lines.")


class StoreSettings(Section):
    path: str = Field("dms.db", description="SQLite database file, relative to DMS_HOME "
                      "unless absolute. Empty string = in-memory (state lost at exit).")


class DaemonSettings(Section):
    shutdown_grace_s: float = Field(5.0, ge=0, description="Seconds given to services to stop "
                                    "cleanly on SIGINT/SIGTERM before they are cancelled.")
    work_dir: str = Field("work", description="Directory for workloads' files, relative to DMS_HOME unless absolute.")


class Config(Section):
    """The whole config. Keys are addressed by dotted paths, e.g. ``api.port``."""

    api: ApiSettings = Field(default_factory=ApiSettings)
    log: LogSettings = Field(default_factory=LogSettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    daemon: DaemonSettings = Field(default_factory=DaemonSettings)
