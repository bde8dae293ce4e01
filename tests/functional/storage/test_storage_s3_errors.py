"""S3-specific behavior against a real moto server: multipart, errors, key safety."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import trio
from pydantic import SecretStr

from dms.errors import AuthError, NetworkError, NotFound
from dms.storage import PathRefused
from dms.storage.s3 import S3Storage
from dms.testing.s3 import S3Server, free_port, running_s3
from dms.testing.storage_contract import MiB, sha256, write_random

pytestmark = pytest.mark.functional


async def test_a_20_mib_file_moves_as_a_multipart_upload(s3: S3Storage, bucket: str, raw: Any,
                                                          tmp_path: Path) -> None:
    src = write_random(tmp_path / "big.bin", 20 * MiB)
    await s3.put(src, f"s3://{bucket}/big.bin")
    etag = raw.head_object(Bucket=bucket, Key="big.bin")["ETag"].strip('"')
    # 8 MiB parts (the default threshold and part size): an S3 multipart ETag ends in -<parts>
    assert etag.endswith("-3"), etag
    out = await s3.fetch(f"s3://{bucket}/big.bin", tmp_path / "back.bin")
    assert sha256(out[0]) == sha256(src)


async def test_a_small_file_is_one_plain_put(s3: S3Storage, bucket: str, raw: Any,
                                             tmp_path: Path) -> None:
    src = tmp_path / "small.txt"
    src.write_bytes(b"small")
    await s3.put(src, f"s3://{bucket}/small.txt")
    assert "-" not in raw.head_object(Bucket=bucket, Key="small.txt")["ETag"]


async def test_wrong_key_id_is_an_auth_error_naming_the_source(s3_server: S3Server, bucket: str,
                                                               tmp_path: Path) -> None:
    secret = "wrong-secret-value-123"
    bad = S3Storage(s3_server.settings(access_key_id="AKIAWRONGWRONGWRONG1",
                                       secret_access_key=SecretStr(secret)))
    with pytest.raises(AuthError) as info:
        await bad.fetch(f"s3://{bucket}/", tmp_path / "x")
    err = info.value
    assert "InvalidAccessKeyId" in err.message
    assert "storage.s3 settings" in err.hint and "AKIA…" in err.hint
    assert secret not in str(err) and "AKIAWRONGWRONGWRONG1" not in str(err)


async def test_wrong_secret_is_an_auth_error(s3_server: S3Server, bucket: str, raw: Any,
                                             tmp_path: Path) -> None:
    raw.put_object(Bucket=bucket, Key="k.txt", Body=b"k")
    bad = S3Storage(s3_server.settings(secret_access_key=SecretStr("not-the-secret")))
    with pytest.raises(AuthError):
        await bad.fetch(f"s3://{bucket}/k.txt", tmp_path / "k.txt")
    src = tmp_path / "up.txt"
    src.write_bytes(b"u")
    with pytest.raises(AuthError):
        await bad.put(src, f"s3://{bucket}/up.txt")


async def test_missing_bucket_is_not_found_naming_the_bucket(s3: S3Storage,
                                                             tmp_path: Path) -> None:
    with pytest.raises(NotFound) as info:
        await s3.fetch("s3://dms-no-such-bucket/k.txt", tmp_path / "k")
    assert "bucket 'dms-no-such-bucket'" in info.value.message
    assert "create the bucket" in info.value.hint
    src = tmp_path / "f.txt"
    src.write_bytes(b"f")
    with pytest.raises(NotFound):
        await s3.put(src, "s3://dms-no-such-bucket/f.txt")
    assert not await s3.exists("s3://dms-no-such-bucket/f.txt")


async def test_unreachable_endpoint_is_a_network_error(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    from dms.storage.s3 import S3Settings

    s3 = S3Storage(S3Settings(endpoint_url=f"http://127.0.0.1:{port}", path_style=True,
                              access_key_id="x", secret_access_key=SecretStr("y"),
                              max_attempts=1, connect_timeout_s=1))
    with pytest.raises(NetworkError) as info:
        await s3.exists("s3://some-bucket/k")
    assert f"127.0.0.1:{port}" in info.value.message and info.value.retryable


async def test_keys_that_would_escape_the_target_are_refused(s3: S3Storage, bucket: str,
                                                              raw: Any, tmp_path: Path) -> None:
    raw.put_object(Bucket=bucket, Key="p/ok.txt", Body=b"ok")
    raw.put_object(Bucket=bucket, Key="p/../../escaped.txt", Body=b"evil")
    with pytest.raises(PathRefused):
        await s3.fetch(f"s3://{bucket}/p/", tmp_path / "dst")
    assert not (tmp_path / "escaped.txt").exists()
    assert not (tmp_path.parent / "escaped.txt").exists()


async def test_folder_markers_are_skipped(s3: S3Storage, bucket: str, raw: Any,
                                          tmp_path: Path) -> None:
    raw.put_object(Bucket=bucket, Key="f/", Body=b"")
    raw.put_object(Bucket=bucket, Key="f/sub/", Body=b"")
    raw.put_object(Bucket=bucket, Key="f/sub/a.txt", Body=b"a")
    out = await s3.fetch(f"s3://{bucket}/f/", tmp_path / "dst")
    assert out == [tmp_path / "dst" / "sub" / "a.txt"]


async def test_a_cancelled_fetch_stops_and_leaves_no_partial_file(
        s3: S3Storage, bucket: str, tmp_path: Path) -> None:
    src = write_random(tmp_path / "c.bin", 20 * MiB)
    await s3.put(src, f"s3://{bucket}/c.bin")
    chunks = []

    def slow(n: int) -> None:  # runs in the transfer threads: makes the fetch take seconds
        chunks.append(n)
        time.sleep(0.05)

    with trio.move_on_after(0.3) as scope:
        await s3.fetch(f"s3://{bucket}/c.bin", tmp_path / "c2.bin", progress=slow)
    assert scope.cancelled_caught, "the fetch finished before it could be cancelled"
    assert 0 < sum(chunks) < 20 * MiB, sum(chunks)
    assert _partials(tmp_path, "c2.bin") == [], _partials(tmp_path, "c2.bin")


def _partials(directory: Path, prefix: str) -> list[str]:
    return [p.name for p in directory.iterdir() if p.name.startswith(prefix)]


def test_running_s3_leaves_nothing_running() -> None:
    with running_s3(auth=False) as server:
        pid = server.pid
        os.kill(pid, 0)  # alive inside the block
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_the_server_exits_when_the_process_that_started_it_dies() -> None:
    code = ("from dms.testing.s3 import start_s3\n"
            "s, _ = start_s3(auth=False)\n"
            "print(s.pid, flush=True)\n"
            "import time; time.sleep(60)\n")
    with subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                          text=True) as starter:
        try:
            assert starter.stdout is not None
            pid = int(starter.stdout.readline())
            os.kill(pid, 0)
        finally:
            starter.kill()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    os.kill(pid, 9)
    raise AssertionError(f"moto server {pid} outlived the process that started it")
