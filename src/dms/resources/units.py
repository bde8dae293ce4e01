"""Human sizes: ``parse_size("4GiB") == 4 * 2**30`` and back with :func:`format_size`.

Binary units (KiB, MiB, GiB, TiB, PiB) are powers of 1024; decimal units (kB/KB, MB,
GB, TB, PB) are powers of 1000; ``B`` or no unit means bytes. Single-letter shorthands
``K``/``M``/``G``/``T``/``P`` are binary, as in ``docker --memory 512m``. Units are
case-insensitive except that ``b`` alone (bits) is refused to avoid a factor-8 mistake.
"""

from __future__ import annotations

import re

from dms.errors import ValidationError
from dms.spec import units as spec_units

_HINT = "write a number with an optional unit, e.g. 512MB, 4GiB, 1.5G or 1073741824 (bytes)"


def parse_size(text: str | int) -> int:
    """Bytes in ``text``; raises :class:`ValidationError` for anything malformed.

    One parser serves the whole project (:func:`dms.spec.units.parse_size`); this wrapper
    turns its errors into user-facing ones and refuses ``b`` alone (bits, not bytes).
    """
    if isinstance(text, str) and re.fullmatch(r"\s*[0-9.]+\s*b\s*", text):
        raise ValidationError(f"invalid size {text!r}: 'b' means bits", hint="use B for bytes, "
                              "or a unit such as MB or GiB")
    try:
        return spec_units.parse_size(text)
    except spec_units.UnitError as exc:
        raise ValidationError(f"invalid size {text!r}: {exc}", hint=_HINT) from exc


def format_size(n: int | float) -> str:
    """``format_size(4 * 2**30) == "4 GiB"``; at most one decimal, trailing .0 dropped."""
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(value) < 1024 or unit == "PiB":
            text = f"{value:.1f}".rstrip("0").rstrip(".") if unit != "B" else f"{int(value)}"
            return f"{text} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def parse_cores(text: str | float | int) -> float:
    """CPU cores as a positive number (fractions allowed: ``0.5``); errors are user-facing."""
    hint = "give a number of cores such as 1, 2 or 0.5"
    if isinstance(text, bool):
        raise ValidationError(f"invalid core count {text!r}", hint=hint)
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise ValidationError(f"invalid core count {text!r}", hint=hint) from None
    if value != value or value == float("inf") or not round(value, 3) > 0:
        raise ValidationError(f"invalid core count {text!r}: must be at least 0.001",
                              hint=hint)
    return round(value, 3)


def parse_gpus(text: str) -> list[tuple[int, int | None]]:
    """``"0:4GiB,1:8GiB"`` -> ``[(0, 4 GiB), (1, 8 GiB)]``; ``"0,1"`` -> whole GPUs
    (``None``: all of that GPU's VRAM)."""
    hint = 'write GPU indices with optional VRAM shares, e.g. "0:4GiB,1:8GiB" or "0,1"'
    out: list[tuple[int, int | None]] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            raise ValidationError(f"invalid GPU list {text!r}: empty entry", hint=hint)
        index_text, _, size_text = part.partition(":")
        if not index_text.strip().isdigit():
            raise ValidationError(f"invalid GPU list {text!r}: {index_text!r} is not a GPU index",
                                  hint=hint)
        out.append((int(index_text), parse_size(size_text) if size_text.strip() else None))
    return out
