from __future__ import annotations

import pytest

from dms.errors import ValidationError
from dms.resources.units import format_size, parse_cores, parse_gpus, parse_size

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("text", "expected"), [
    ("4GiB", 4 * 2**30), ("512MB", 512 * 10**6), ("512M", 512 * 2**20), ("512m", 512 * 2**20),
    ("1073741824", 2**30), ("1.5GiB", 3 * 2**29), (" 2 gib ", 2 * 2**30), ("10kB", 10_000),
    ("10KiB", 10_240), ("1TB", 10**12), ("3B", 3), (42, 42), ("0", 0), ("2Gi", 2 * 2**30),
])
def test_parse_size_accepts_human_units(text: str | int, expected: int) -> None:
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["", "GiB", "4 GiBs", "-1GiB", "1.2.3G", "4gb of ram", "1b",
                                  "abc", "4 XB", "0.1B", -5, True, 1.5])
def test_parse_size_rejects_malformed_with_a_hint(text: object) -> None:
    with pytest.raises(ValidationError) as info:
        parse_size(text)  # type: ignore[arg-type]
    assert info.value.hint
    assert "invalid size" in info.value.message


def test_format_size_round_trips_common_sizes() -> None:
    assert format_size(4 * 2**30) == "4 GiB"
    assert format_size(1536 * 2**20) == "1.5 GiB"
    assert format_size(12) == "12 B"
    assert parse_size(format_size(4 * 2**30).replace(" ", "")) == 4 * 2**30


def test_parse_cores() -> None:
    assert parse_cores("2") == 2.0
    assert parse_cores(0.5) == 0.5
    assert parse_cores("0.0016") == 0.002  # millicore precision
    for bad in ("0.0004", "0", "-1", "two", "nan", "inf", None, True):
        with pytest.raises(ValidationError):
            parse_cores(bad)  # type: ignore[arg-type]


def test_parse_gpus() -> None:
    assert parse_gpus("0:4GiB,1:8GiB") == [(0, 4 * 2**30), (1, 8 * 2**30)]
    assert parse_gpus("0, 1") == [(0, None), (1, None)]
    for bad in ("", "a:4GiB", "0:4XB", "0,,1", "-1"):
        with pytest.raises(ValidationError):
            parse_gpus(bad)
