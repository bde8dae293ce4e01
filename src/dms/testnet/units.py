"""Human units: durations (``40ms``, ``1.5s``, ``250us``) and percentages (``0.1%``)."""

from __future__ import annotations

import re

from dms.errors import ValidationError

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(us|ms|s|m)?\s*$")
_SCALE_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def parse_duration_ms(text: str | float | int) -> float:
    """``"40ms"`` -> 40.0; ``"1s"`` -> 1000.0; a bare number is milliseconds."""
    if isinstance(text, int | float):
        value = float(text)
    else:
        m = _DURATION.match(text)
        if not m:
            raise ValidationError(f"not a duration: {text!r}",
                                  hint="write a number with a unit, e.g. 40ms, 1.5s, 250us")
        value = float(m.group(1)) * _SCALE_MS[m.group(2) or "ms"]
    if value < 0:
        raise ValidationError(f"negative duration: {text!r}", hint="use 0 or more, e.g. 40ms")
    return value


def parse_percent(text: str | float | int) -> float:
    """``"0.1%"`` -> 0.1 (percent, 0..100). A bare number is a percentage too."""
    if isinstance(text, int | float):
        value = float(text)
    else:
        s = text.strip().removesuffix("%").strip()
        try:
            value = float(s)
        except ValueError:
            raise ValidationError(f"not a percentage: {text!r}",
                                  hint="write a number with an optional %, e.g. 0.1%") from None
    if not 0 <= value <= 100:
        raise ValidationError(f"percentage out of range: {text!r}", hint="use 0% to 100%")
    return value


def format_ms(ms: float) -> str:
    """The form ``tc`` accepts: ``40ms``, ``0.5ms``, ``1500ms``."""
    return f"{ms:g}ms"
