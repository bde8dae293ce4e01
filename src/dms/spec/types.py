"""Annotated pydantic types for the ensemble models: sizes, durations, names.

Each raises a :class:`pydantic_core.PydanticCustomError` whose type names the error
class, so the validator can turn it into a :class:`~dms.spec.errors.SpecError` with
what was expected and how to fix it.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer
from pydantic_core import PydanticCustomError

from dms.spec.units import (
    UnitError,
    format_bandwidth,
    format_duration,
    format_size,
    parse_bandwidth,
    parse_duration,
    parse_frequency,
    parse_size,
)

__all__ = ["Bandwidth", "Cores", "Duration", "Frequency", "Name", "Size", "Millis", "NAME_RE"]


def _wrap(fn: Any, kind: str) -> Any:
    def inner(value: object) -> Any:
        try:
            return fn(value)
        except UnitError as exc:
            raise PydanticCustomError(kind, "{msg}", {"msg": str(exc),
                                                      "expected": exc.expected}) from None
    return inner


def _ms(value: object) -> int:
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value < 0:
            raise UnitError(f"{value!r} is negative", "milliseconds (e.g. 50) or 50ms")
        return int(value)
    return round(parse_duration(value) * 1000)


Size = Annotated[int, BeforeValidator(_wrap(parse_size, "size")),
                 PlainSerializer(format_size, when_used="json")]
Duration = Annotated[float, BeforeValidator(_wrap(parse_duration, "duration")),
                     PlainSerializer(format_duration, when_used="json")]
Cores = Annotated[float, PlainSerializer(lambda v: int(v) if float(v).is_integer() else v,
                                         when_used="json")]
def _format_frequency(hz: int) -> str | int:
    for name, mult in (("GHz", 10**9), ("MHz", 10**6), ("kHz", 10**3)):
        if hz and hz % mult == 0:
            return f"{hz // mult}{name}"
    return hz


Frequency = Annotated[int, BeforeValidator(_wrap(parse_frequency, "frequency")),
                      PlainSerializer(_format_frequency, when_used="json")]
Bandwidth = Annotated[int, BeforeValidator(_wrap(parse_bandwidth, "bandwidth")),
                      PlainSerializer(format_bandwidth, when_used="json")]
Millis = Annotated[int, BeforeValidator(_wrap(_ms, "duration"))]

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


def _name(value: object) -> str:
    if not isinstance(value, str) or not NAME_RE.match(value):
        raise PydanticCustomError(
            "name", "{msg}",
            {"msg": f"{value!r} is not a valid name",
             "expected": "letters, digits, '-' and '_', starting with a letter or digit"})
    return value


Name = Annotated[str, BeforeValidator(_name)]
