"""Human units: sizes (bytes), durations (seconds), frequencies (Hz).

Pure functions, shared by the models, the converters and the CLI.

    "1GiB" -> 1073741824      "512MB" -> 512000000     "1.5G" -> 1610612736
    "30s"  -> 30.0            "1h30m" -> 5400.0        90      -> 90.0
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from fractions import Fraction

__all__ = ["format_bandwidth", "format_duration", "format_size", "parse_bandwidth",
           "parse_duration", "parse_frequency", "parse_size", "UnitError"]


class UnitError(ValueError):
    """A size, duration or frequency that does not parse; ``expected`` says the form."""

    def __init__(self, message: str, expected: str) -> None:
        super().__init__(message)
        self.expected = expected


SIZE_EXPECTED = "a size such as 512MiB, 1GiB, 1.5G, 500MB or a plain number of bytes"
DURATION_EXPECTED = "a duration such as 30s, 5m, 1h30m, 250ms or a plain number of seconds"
FREQ_EXPECTED = "a frequency such as 2.4GHz, 2400MHz or a plain number of Hz"

_SIZE_UNITS: dict[str, int] = {
    "": 1, "b": 1,
    "k": 1024, "ki": 1024, "kib": 1024, "kb": 1000,
    "m": 1024**2, "mi": 1024**2, "mib": 1024**2, "mb": 1000**2,
    "g": 1024**3, "gi": 1024**3, "gib": 1024**3, "gb": 1000**3,
    "t": 1024**4, "ti": 1024**4, "tib": 1024**4, "tb": 1000**4,
    "p": 1024**5, "pi": 1024**5, "pib": 1024**5, "pb": 1000**5,
}
_NUM = r"(\d+(?:\.\d+)?|\.\d+)"
_SIZE_RE = re.compile(rf"^\s*{_NUM}\s*([a-zA-Z]*)\s*$")


def parse_size(value: object) -> int:
    """Bytes from ``value``: int (bytes), or a string with a unit.

    Single letters (``K``, ``M``, ``G``) and ``Ki``/``KiB`` forms are binary (1024);
    ``KB``/``MB``/``GB`` are decimal (1000), as Docker and Kubernetes read them.
    """
    if isinstance(value, bool):
        raise UnitError(f"{value!r} is not a size", SIZE_EXPECTED)
    if isinstance(value, int):
        if value < 0:
            raise UnitError(f"size {value} is negative", SIZE_EXPECTED)
        return value
    if isinstance(value, float):
        if value < 0 or not math.isfinite(value) or not value.is_integer():
            raise UnitError(f"size {value!r} is not a whole number of bytes", SIZE_EXPECTED)
        return int(value)
    if not isinstance(value, str):
        raise UnitError(f"{value!r} is not a size", SIZE_EXPECTED)
    m = _SIZE_RE.match(value)
    if not m or m.group(2).lower() not in _SIZE_UNITS:
        raise UnitError(f"cannot read {value!r} as a size", SIZE_EXPECTED)
    # exact: "9007199254740993B" stays that number, "1.5G" is exactly 3 * 2**29
    exact = Fraction(m.group(1)) * _SIZE_UNITS[m.group(2).lower()]
    if exact.denominator != 1 and m.group(2).lower() in ("", "b"):
        raise UnitError(f"size {value!r} is not a whole number of bytes", SIZE_EXPECTED)
    return math.ceil(exact)


_BIN_NAMES = (("PiB", 1024**5), ("TiB", 1024**4), ("GiB", 1024**3), ("MiB", 1024**2),
              ("KiB", 1024))


_DEC_NAMES = (("PB", 1000**5), ("TB", 1000**4), ("GB", 1000**3), ("MB", 1000**2),
              ("KB", 1000))


def format_size(n: int) -> str | int:
    """Canonical form: the shortest exact ``<int><unit>`` (binary units win ties), else
    ``<n>B``; always with a unit (so it never reads as a bare number), except ``0``."""
    best: str | int = f"{n}B" if n else 0
    if n > 0:
        for name, mult in _BIN_NAMES + _DEC_NAMES:
            if n % mult == 0:
                cand = f"{n // mult}{name}"
                if isinstance(best, int) or len(cand) <= len(best):
                    best = cand
    return best


_DUR_UNITS = {"ms": Fraction(1, 1000), "s": Fraction(1), "m": Fraction(60),
              "h": Fraction(3600), "d": Fraction(86400)}
_DUR_PART = re.compile(r"(\d+(?:\.\d+)?|\.\d+)(ms|s|m|h|d)")


def parse_duration(value: object) -> float:
    """Seconds from ``value``: a number (seconds) or Go-style ``1h30m``, ``250ms``."""
    if isinstance(value, bool):
        raise UnitError(f"{value!r} is not a duration", DURATION_EXPECTED)
    if isinstance(value, int | float):
        if value < 0 or not math.isfinite(value):
            raise UnitError(f"duration {value!r} is negative", DURATION_EXPECTED)
        return float(value)
    if not isinstance(value, str):
        raise UnitError(f"{value!r} is not a duration", DURATION_EXPECTED)
    s = value.strip()
    try:
        number = float(s)
    except ValueError:
        pass
    else:
        return parse_duration(number)
    # exact arithmetic, one rounding at the end: "43ms" is exactly the float 0.043
    pos, total = 0, Fraction(0)
    for m in _DUR_PART.finditer(s):
        if m.start() != pos:
            break
        total += Fraction(m.group(1)) * _DUR_UNITS[m.group(2)]
        pos = m.end()
    if pos != len(s) or not s:
        _bad_duration(value)
    return float(total)


def _bad_duration(value: object) -> float:
    raise UnitError(f"cannot read {value!r} as a duration", DURATION_EXPECTED)


def format_duration(seconds: float) -> str:
    """Canonical form: ``1h30m``, ``45s``, ``250ms``; ``0s`` for zero."""
    if seconds == 0:
        return "0s"
    if not float(seconds).is_integer():
        ms = round(seconds * 1000)
        if float(Fraction(ms, 1000)) == seconds:
            whole = ms // 1000
            head = format_duration(whole) if whole else ""
            return f"{head}{ms % 1000}ms"
        return f"{format(Decimal(repr(float(seconds))), 'f')}s"
    rest = int(seconds)
    out = ""
    for name, mult in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if rest >= mult:
            out += f"{rest // mult}{name}"
            rest %= mult
    return out


_FREQ_UNITS = {"": 1, "hz": 1, "khz": 10**3, "mhz": 10**6, "ghz": 10**9}


def parse_frequency(value: object) -> int:
    """Hz from a number (Hz) or ``2.4GHz`` / ``2400MHz``."""
    if isinstance(value, bool):
        raise UnitError(f"{value!r} is not a frequency", FREQ_EXPECTED)
    if isinstance(value, int | float) and value >= 0:
        return int(value)
    if isinstance(value, str):
        m = _SIZE_RE.match(value)
        if m and m.group(2).lower() in _FREQ_UNITS:
            return round(float(m.group(1)) * _FREQ_UNITS[m.group(2).lower()])
    raise UnitError(f"cannot read {value!r} as a frequency", FREQ_EXPECTED)


BW_EXPECTED = "a bandwidth such as 100Mbps, 1Gbps, 500kbps or a plain number of bits/s"
_BW_UNITS = {"": 1, "bps": 1, "kbps": 10**3, "mbps": 10**6, "gbps": 10**9, "tbps": 10**12,
             "kbit": 10**3, "mbit": 10**6, "gbit": 10**9, "tbit": 10**12}


def parse_bandwidth(value: object) -> int:
    """Bits per second (the Go DMS unit) from a number or ``100Mbps`` / ``1Gbit``."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str):
        m = _SIZE_RE.match(value)
        if m and m.group(2).lower() in _BW_UNITS:
            return math.ceil(Fraction(m.group(1)) * _BW_UNITS[m.group(2).lower()])
    raise UnitError(f"cannot read {value!r} as a bandwidth", BW_EXPECTED)


def format_bandwidth(bps: int) -> str | int:
    for name, mult in (("Tbps", 10**12), ("Gbps", 10**9), ("Mbps", 10**6), ("kbps", 10**3)):
        if bps and bps % mult == 0:
            return f"{bps // mult}{name}"
    return bps
