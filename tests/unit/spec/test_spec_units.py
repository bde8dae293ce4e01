from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dms.spec.units import (
    UnitError,
    format_duration,
    format_size,
    parse_duration,
    parse_frequency,
    parse_size,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("text", "n"), [
    ("1GiB", 2**30), ("512MB", 512 * 10**6), ("1.5G", 3 * 2**29), (10, 10), ("10", 10),
    ("512Mi", 512 * 2**20), ("2k", 2048), ("1TB", 10**12), (" 3 KiB ", 3072), (4.0, 4),
])
def test_parse_size(text: object, n: int) -> None:
    assert parse_size(text) == n


@pytest.mark.parametrize("bad", ["lots", "-1", "1.5.2G", "1 gigs", True, None, -5, 1.5, "G"])
def test_parse_size_rejects(bad: object) -> None:
    with pytest.raises(UnitError) as info:
        parse_size(bad)
    assert "512MiB" in info.value.expected


@pytest.mark.parametrize(("text", "secs"), [
    ("30s", 30), ("5m", 300), ("1h30m", 5400), (90, 90), ("250ms", 0.25), ("2", 2),
    ("1d", 86400), ("1.5s", 1.5),
])
def test_parse_duration(text: object, secs: float) -> None:
    assert parse_duration(text) == secs


@pytest.mark.parametrize("bad", ["soon", "5 minutes", "-3", "1h-5m", "", True, "s"])
def test_parse_duration_rejects(bad: object) -> None:
    with pytest.raises(UnitError):
        parse_duration(bad)


def test_format_is_canonical() -> None:
    assert format_size(2**30) == "1GiB"
    assert format_size(512 * 10**6) == "512MB"
    assert format_size(1536) == "1536B"
    assert format_size(1000) == "1KB"
    assert format_size(0) == 0
    assert format_duration(5400) == "1h30m"
    assert format_duration(0.25) == "250ms"
    assert parse_frequency("2.4GHz") == 2_400_000_000


@given(st.integers(0, 2**62))
def test_size_round_trip(n: int) -> None:
    assert parse_size(format_size(n)) == n


@given(st.one_of(st.integers(0, 10**7), st.integers(0, 10**9).map(lambda ms: ms / 1000),
                 st.floats(0, 10**7, allow_nan=False)))
def test_duration_round_trip(secs: float) -> None:
    assert parse_duration(format_duration(secs)) == secs


def test_bandwidth() -> None:
    from dms.spec.units import format_bandwidth, parse_bandwidth

    assert parse_bandwidth("100Mbps") == 10**8
    assert parse_bandwidth(1000) == 1000
    assert parse_bandwidth("1.5Gbit") == 1_500_000_000
    assert format_bandwidth(10**8) == "100Mbps"
    assert format_bandwidth(1001) == 1001
    with pytest.raises(UnitError):
        parse_bandwidth("fast")
