"""The CLI's client for the local API of a running daemon."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from dms.errors import DaemonNotRunning, DMSError, from_dict


class ApiClient:
    def __init__(self, home: Path, *, port: int | None = None, timeout: float = 30.0) -> None:
        from dms.config import load
        from dms.node.home import read_runtime

        self.home = home
        runtime = read_runtime(home)
        if port is None:
            port = runtime["api_port"] if runtime else load(home).api.port
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self._client = httpx.Client(base_url=self.base, timeout=timeout)
        self._runtime = runtime

    def request(self, method: str, path: str, **kw: Any) -> Any:
        try:
            resp = self._client.request(method, path, **kw)
        except httpx.TransportError as exc:
            raise DaemonNotRunning(
                f"no dms daemon answers at {self.base} (home {self.home})",
                hint="start one with `dms run --home " + str(self.home) + "`") from exc
        try:
            body = resp.json()
        except ValueError:
            body = None
        if resp.status_code >= 400:
            if isinstance(body, dict) and isinstance(body.get("error"), dict):
                raise from_dict(body["error"])
            raise DMSError(f"API answered {resp.status_code}: {resp.text[:200]}")
        return body

    def get(self, path: str, **kw: Any) -> Any:
        return self.request("GET", path, **kw)

    def post(self, path: str, json: Any = None, **kw: Any) -> Any:
        return self.request("POST", path, json=json, **kw)

    def close(self) -> None:
        self._client.close()
