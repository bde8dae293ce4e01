"""Logging setup: human lines or JSON lines, with secrets scrubbed.

A filter on the root handler redacts anything that looks like a secret (passphrases,
private keys, tokens in ``key=value`` or JSON form, bearer tokens, JWTs) before a record
is written, so a careless log call cannot leak one.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time

_SECRET_KEYS = r"(?:passphrase|password|secret|private[_-]?key|seed|token|authorization|aws_secret_access_key)"
_PATTERNS = [
    re.compile(r"(?i)(bearer\s+)([A-Za-z0-9._~+/-]+=*)"),
    re.compile(rf"(?i)((?<![a-z]){_SECRET_KEYS}(?![a-z])\s*[=:]\s*)(\"[^\"]*\"|'[^']*'|\S+)"),
    re.compile(rf"(?i)(\"{_SECRET_KEYS}\"\s*:\s*)(\"[^\"]*\")"),
    re.compile(r"()(eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})"),
]
REDACTED = "[REDACTED]"


def scrub(text: str) -> str:
    for pat in _PATTERNS:
        text = pat.sub(lambda m: m.group(1) + REDACTED, text)
    return text


class ScrubFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        clean = scrub(msg)
        if clean != msg:
            record.msg, record.args = clean, None
        return True


class JSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        d = {"ts": round(record.created, 3), "level": record.levelname.lower(),
             "logger": record.name, "msg": record.getMessage()}
        if record.exc_info:
            d["exc"] = scrub(self.formatException(record.exc_info))
        return json.dumps(d)


def setup(level: str = "info", *, json_lines: bool = False, stream=None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(ScrubFilter())
    if json_lines:
        handler.setFormatter(JSONFormatter())
    else:
        fmt = logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")
        fmt.converter = time.localtime
        handler.setFormatter(fmt)
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.addHandler(handler)
    set_level(level)


LEVELS = ("debug", "info", "warning", "error")
NOISY = ("libp2p", "multiaddr", "hypercorn.error", "docker", "urllib3", "botocore")


def set_level(level: str) -> str:
    """Set the process's log level (libraries that are loud at info stay at warning or
    above); return it. Raises ValueError for an unknown level."""
    if level.lower() not in LEVELS:
        raise ValueError(f"unknown log level {level!r} (one of {', '.join(LEVELS)})")
    root = logging.getLogger()
    root.setLevel(level.upper())
    for noisy in NOISY:
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    return level.lower()


def current_level() -> str:
    return logging.getLevelName(logging.getLogger().level).lower()
