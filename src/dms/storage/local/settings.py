"""Settings of the local storage."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator


class LocalSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    allowed_roots: list[str] = Field(
        default_factory=list,
        description="Absolute directories that file:// and plain-path inputs and outputs may "
        "read and write (and everything below them). Empty = local storage refuses every path.")
    max_threads: int = Field(default=4, ge=1, le=64, description="Worker threads for copies.")

    @field_validator("allowed_roots")
    @classmethod
    def _absolute(cls, roots: list[str]) -> list[str]:
        for r in roots:
            if not r.startswith("/"):
                raise ValueError(f"allowed root {r!r} is not an absolute path")
        return roots
