from __future__ import annotations

from pathlib import PurePosixPath

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dms.errors import ValidationError
from dms.storage import confine_relative, storage_type
from dms.storage.errors import PathRefused
from dms.storage.urls import S3Url, check_relative, parse_local_url, parse_s3_url

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("url", "kind"), [
    ("s3://b/k", "s3"), ("S3://b/k", "s3"), ("file:///x", "local"), ("/abs/p", "local"),
    ("http://h/x", "http"), ("https://h/x", "https"), ("gs://b/k", "gs"),
])
def test_storage_type(url: str, kind: str) -> None:
    assert storage_type(url) == kind


def test_s3_urls() -> None:
    assert parse_s3_url("s3://my-bucket/a/b.txt") == S3Url("my-bucket", "a/b.txt")
    assert not parse_s3_url("s3://my-bucket/a/b.txt").is_prefix
    assert parse_s3_url("s3://my-bucket/a/").is_prefix
    assert parse_s3_url("s3://my-bucket").is_prefix and parse_s3_url("s3://my-bucket/").key == ""
    assert parse_s3_url("s3://bkt/a").child("x/y") == S3Url("bkt", "a/x/y")
    assert parse_s3_url("s3://bkt/a/b.txt").name == "b.txt"


@pytest.mark.parametrize("url", ["s3://B/k", "s3://ab/k", "s3://-bad/k", "s3:///k", "http://b/k"])
def test_bad_s3_urls_are_refused_with_a_hint(url: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_s3_url(url)
    assert info.value.hint


def test_local_urls() -> None:
    assert parse_local_url("file:///srv/in/a%20b.txt").path == PurePosixPath("/srv/in/a b.txt")
    assert parse_local_url("file://localhost/srv/x").path == PurePosixPath("/srv/x")
    assert parse_local_url("/srv/dir/").dir_hint
    assert not parse_local_url("/srv/file").dir_hint


@pytest.mark.parametrize("url", ["relative/path", "file://otherhost/x", "s3://b/k", "/a\x00b"])
def test_bad_local_urls_are_refused(url: str) -> None:
    with pytest.raises(ValidationError):
        parse_local_url(url)


@pytest.mark.parametrize("rel", ["", "/abs", "..", "a/../b", "a/./b", "a//b", "../x", "a/.."])
def test_check_relative_refuses_escapes(rel: str) -> None:
    with pytest.raises(PathRefused):
        check_relative(rel)


segment = st.text(st.characters(blacklist_characters="/\x00"), min_size=1, max_size=8)


@given(st.lists(segment, min_size=1, max_size=5))
def test_a_checked_relative_path_never_leaves_its_base(parts: list[str]) -> None:
    rel = "/".join(parts)
    base = PurePosixPath("/base")
    try:
        check_relative(rel)
    except PathRefused:
        assert any(p in (".", "..") for p in parts)
        return
    import os.path

    assert os.path.normpath(base / rel).startswith("/base/")


@given(st.from_regex(r"[a-z0-9][a-z0-9-]{1,20}[a-z0-9]", fullmatch=True),
       st.lists(segment, max_size=4))
def test_s3_urls_round_trip(bucket: str, parts: list[str]) -> None:
    url = f"s3://{bucket}/" + "/".join(parts)
    assert str(parse_s3_url(url)) == url


def test_confine_relative() -> None:
    assert str(confine_relative(PurePosixPath("/w/in"), "data/x.csv")) == "/w/in/data/x.csv"  # type: ignore[arg-type]
    with pytest.raises(PathRefused):
        confine_relative(PurePosixPath("/w/in"), "../../etc/passwd")  # type: ignore[arg-type]
