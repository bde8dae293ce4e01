"""Polling a local HTTP endpoint (shared by the Testnet and the in-namespace probe)."""

from __future__ import annotations

import time
import urllib.error
import urllib.request


def wait_http(url: str, timeout_s: float) -> str | None:
    """Poll ``url`` until it answers 2xx; the body, or None when time runs out."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(url, timeout=min(2.0, max(timeout_s, 0.2))) as r:
                return str(r.read().decode("utf-8", "replace"))
        except (urllib.error.URLError, OSError, ValueError):
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.1)
