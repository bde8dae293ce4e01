from __future__ import annotations

import io
import logging

import pytest

from dms.telemetry.logs import scrub, setup

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("text", [
    "passphrase=hunter2", "DMS_PASSPHRASE: hunter2", '{"private_key": "hunter2"}',
    "Authorization: Bearer hunter2", "token='hunter2'", "aws_secret_access_key=hunter2",
    "got eyJhbGciOiJFZERTQSJ9.eyJpc3MiOiJkaWQ6a2V5In0.c2lnbmF0dXJlc2lnbmF0dXJl",
])
def test_secrets_are_scrubbed(text: str) -> None:
    out = scrub(text)
    assert "hunter2" not in out and "c2lnbmF0dXJl" not in out
    assert "[REDACTED]" in out


def test_plain_text_untouched() -> None:
    assert scrub("node ready in 0.4s on port 9999") == "node ready in 0.4s on port 9999"


def test_handler_scrubs_formatted_args() -> None:
    buf = io.StringIO()
    setup("info", stream=buf)
    logging.getLogger("t").info("unlocking with passphrase=%s", "hunter2")
    assert "hunter2" not in buf.getvalue() and "[REDACTED]" in buf.getvalue()
    setup("info", json_lines=True, stream=buf)
    logging.getLogger("t").info("seed: %s", "abcdef")
    assert "abcdef" not in buf.getvalue()
