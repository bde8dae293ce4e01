"""Spec errors and conversion warnings: where, what, what was expected, how to fix."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dms.errors import ValidationError

__all__ = ["ConversionWarning", "SpecError", "SpecValidationError", "format_errors"]


@dataclass(frozen=True)
class SpecError:
    """One problem in an ensemble file.

    ``code`` names the error class (``unknown_field``, ``wrong_type``, ``unknown_allocation``,
    ``unplaced_allocation``, ``placed_twice``, ``duplicate_port``, ``missing_field``,
    ``bad_size``, ``bad_duration``, ``supervisor_cycle``, ``unknown_node``, ``yaml_syntax``,
    ``unknown_version``...). ``line`` and ``column`` are 1-based; 0 when unknown.
    """

    code: str
    path: str
    message: str
    expected: str = ""
    hint: str = ""
    file: str = "<string>"
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}" if self.line else self.file
        text = f"{where}: {self.path or '<document>'}: {self.message}"
        if self.expected:
            text += f"; expected {self.expected}"
        if self.hint:
            text += f"\n    hint: {self.hint}"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "path": self.path, "message": self.message,
                "expected": self.expected, "hint": self.hint, "file": self.file,
                "line": self.line, "column": self.column}


@dataclass(frozen=True)
class ConversionWarning:
    """Something in a source job that the ensemble cannot express (``path`` is in the source)."""

    path: str
    message: str
    hint: str = ""

    def __str__(self) -> str:
        return f"warning: {self.path}: {self.message}" + (f" ({self.hint})" if self.hint else "")


def format_errors(errors: list[SpecError]) -> str:
    return "\n".join(str(e) for e in errors)


class SpecValidationError(ValidationError):
    """An ensemble that does not validate; ``errors`` lists every problem found."""

    def __init__(self, errors: list[SpecError], *, file: str = "<string>") -> None:
        first = errors[0] if errors else None
        summary = (f"{file}: {len(errors)} error(s) in the ensemble"
                   + (f"; first: {first.path or '<document>'}: {first.message}" if first else ""))
        super().__init__(summary,
                         hint=(first.hint if first and first.hint else
                               "run `dms validate FILE` to see every error with its line"),
                         details={"errors": [e.to_dict() for e in errors]})
        self.errors = errors
