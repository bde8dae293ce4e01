"""A real S3 server for tests: moto's server (``moto[server]``) on a free loopback port.

    with running_s3() as s3:            # or: s3, stop = start_s3(); ...; stop()
        s3.settings()                   # S3Settings for dms.storage (path-style, test keys)
        s3.client().create_bucket(Bucket="b")

The server runs as a subprocess (``python -m dms.testing.s3 --port P --parent PID``)
in its own session; it exits when stopped, when the context ends, and on its own when
the process that started it dies (a watchdog thread polls the parent), so nothing is
left running even after a crashed test run.

Credentials are checked (``auth=True``, the default): moto accepts any key until told
otherwise, so the helper creates an IAM user with an allow-all policy and an access key
through moto's IAM, then switches moto's authentication on (``POST
/moto-api/reset-auth`` with ``0``). From then on a wrong key id is ``InvalidAccessKeyId``
and a wrong secret ``SignatureDoesNotMatch``, as on AWS.

    start_s3 ──free port──▶ Popen(python -m dms.testing.s3) ──GET / until 200──▶
      IAM user + key (unauthenticated) ──reset-auth 0──▶ S3Server(endpoint, keys)
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from dms.errors import DMSError
from dms.storage.s3.settings import S3Settings

REGION = "us-east-1"
_ALLOW_ALL = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "*", "Resource": "*"}]})


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str
    access_key_id: str
    secret_access_key: str = field(repr=False)
    region: str = REGION
    pid: int = 0

    def settings(self, **overrides: Any) -> S3Settings:
        values: dict[str, Any] = {
            "endpoint_url": self.endpoint_url, "region": self.region, "path_style": True,
            "access_key_id": self.access_key_id,
            "secret_access_key": SecretStr(self.secret_access_key), **overrides}
        return S3Settings(**values)

    def client(self) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client("s3", endpoint_url=self.endpoint_url, region_name=self.region,
                            aws_access_key_id=self.access_key_id,
                            aws_secret_access_key=self.secret_access_key,
                            config=Config(s3={"addressing_style": "path"}))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/moto-api/data.json", timeout=1) as r:
            return bool(r.status == 200)
    except (OSError, urllib.error.URLError):
        return False


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


def _spawn(port: int, log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "dms.testing.s3", "--port", str(port),
             "--parent", str(os.getpid())],
            stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True,
            env={**os.environ, "MOTO_ALLOW_NONEXISTENT_REGION": "false"})


def _enable_auth(endpoint: str) -> tuple[str, str]:
    import boto3

    iam = boto3.client("iam", endpoint_url=endpoint, region_name=REGION,
                       aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
    iam.create_user(UserName="dms-test")
    iam.put_user_policy(UserName="dms-test", PolicyName="all", PolicyDocument=_ALLOW_ALL)
    key = iam.create_access_key(UserName="dms-test")["AccessKey"]
    req = urllib.request.Request(endpoint + "/moto-api/reset-auth", data=b"0", method="POST",
                                 headers={"Content-Type": "text/plain"})
    with urllib.request.urlopen(req, timeout=5) as r:
        if r.status != 200:
            raise DMSError(f"moto refused reset-auth ({r.status})", hint="check moto's version")
    return str(key["AccessKeyId"]), str(key["SecretAccessKey"])


def start_s3(*, auth: bool = True, timeout_s: float = 30.0,
             log_dir: Path | None = None) -> tuple[S3Server, Callable[[], None]]:
    """Start a moto S3 server; (server, stop). ``stop`` is idempotent."""
    log_dir = log_dir or Path(os.environ.get("TMPDIR", "/tmp"))
    last = ""
    for _attempt in range(3):  # a free port can be taken between bind and listen
        port = free_port()
        log = log_dir / f"dms-moto-{port}.log"
        proc = _spawn(port, log)
        endpoint = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and proc.poll() is None and not _answers(endpoint):
            time.sleep(0.1)
        if proc.poll() is None and _answers(endpoint):
            try:
                key_id, secret = _enable_auth(endpoint) if auth else ("test", "test")
            except BaseException:
                _stop(proc)
                raise

            def stop(proc: subprocess.Popen[bytes] = proc, log: Path = log) -> None:
                _stop(proc)
                log.unlink(missing_ok=True)

            return S3Server(endpoint, key_id, secret, pid=proc.pid), stop
        _stop(proc)
        last = log.read_text(errors="replace")[-1500:] if log.exists() else "(no log)"
    raise DMSError(f"moto's S3 server did not start; log tail:\n{last}",
                   hint="check that moto[server] is installed in this environment "
                        "(`pip install 'moto[server]'`, a dev dependency)")


@contextmanager
def running_s3(*, auth: bool = True, timeout_s: float = 30.0) -> Iterator[S3Server]:
    """A running S3 server for the duration of the block; stopped after it."""
    server, stop = start_s3(auth=auth, timeout_s=timeout_s)
    try:
        yield server
    finally:
        stop()


def _watch_parent(parent: int) -> None:
    while True:
        try:
            os.kill(parent, 0)
        except ProcessLookupError:
            os._exit(0)
        if os.getppid() != parent:
            os._exit(0)
        time.sleep(1.0)


def main(argv: list[str] | None = None) -> None:
    """Run moto's server on 127.0.0.1; exit when the parent process is gone."""
    ap = argparse.ArgumentParser(prog="python -m dms.testing.s3")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--parent", type=int, default=0)
    args = ap.parse_args(argv)
    if args.parent:
        threading.Thread(target=_watch_parent, args=(args.parent,), daemon=True).start()
    from moto.server import main as moto_main

    moto_main(["-H", "127.0.0.1", "-p", str(args.port)])


if __name__ == "__main__":
    main()
