"""Health checks of running allocations (the ensemble's ``healthcheck``).

    command: run ``exec`` inside the workload (executors with SupportsExec: docker);
             healthy when it exits 0 (and its output matches ``response``, if given)
    http:    GET ``endpoint`` (a full URL, from the provider's host: a published port);
             healthy on a 2xx answer whose body matches ``response``, if given

A check that cannot run here (no exec support, no URL) is reported once and skipped:
it never fails a workload by itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from dms.errors import DMSError, ValidationError
from dms.executor.contract import Executor, Handle, SupportsExec
from dms.spec.units import UnitError, parse_duration

FAILURES_TO_UNHEALTHY = 3


@dataclass(frozen=True)
class HealthSpec:
    type: str                       # "command" | "http"
    exec: tuple[str, ...] = ()
    endpoint: str | None = None
    response_type: str = "contains"  # contains | equals | status
    response_value: str | None = None
    interval_s: float = 30.0

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> HealthSpec | None:
        if not d or d.get("type") not in ("command", "http"):
            return None
        resp = d.get("response") or {}
        try:
            interval = float(parse_duration(d.get("interval") or 30.0))
        except UnitError as exc:
            raise ValidationError(f"healthcheck interval: {exc}", hint=exc.expected) from exc
        return cls(type=d["type"], exec=tuple(d.get("exec") or ()), endpoint=d.get("endpoint"),
                   response_type=str(resp.get("type") or "contains"),
                   response_value=None if resp.get("value") is None else str(resp["value"]),
                   interval_s=max(interval, 0.2))

    def unsupported(self, executor: Executor) -> str | None:
        """Why this check cannot run here, or None."""
        if self.type == "command":
            if not self.exec:
                return "a command health check needs `exec`"
            if not isinstance(executor, SupportsExec):
                return f"the {executor.name} executor cannot run commands in a workload"
        elif not (self.endpoint or "").startswith(("http://", "https://")):
            return "an http health check needs a full URL as `endpoint`"
        return None

    def _matches(self, status: int | None, body: str) -> bool:
        if self.response_value is None:
            return True
        if self.response_type == "status":
            return str(status) == self.response_value
        if self.response_type == "equals":
            return body.strip() == self.response_value.strip()
        return self.response_value in body


async def probe(spec: HealthSpec, executor: Executor, handle: Handle) -> tuple[bool, str]:
    """(healthy, what was seen) for one check."""
    timeout = min(spec.interval_s, 10.0)
    if spec.type == "command":
        assert isinstance(executor, SupportsExec)
        try:
            rc, out = await executor.exec(handle, list(spec.exec))
        except DMSError as exc:
            return False, f"check command could not run: {exc.message}"
        text = out.decode(errors="replace")
        if rc != 0:
            return False, f"check command exited with {rc}"
        return spec._matches(None, text), f"check output {text.strip()[:80]!r}"
    assert spec.endpoint is not None
    try:
        async with httpx.AsyncClient(timeout=timeout) as client:
            r = await client.get(spec.endpoint)
    except httpx.HTTPError as exc:
        return False, f"GET {spec.endpoint} failed: {exc.__class__.__name__}"
    if spec.response_type == "status":
        return spec._matches(r.status_code, r.text), f"GET {spec.endpoint} -> {r.status_code}"
    if not 200 <= r.status_code < 300:
        return False, f"GET {spec.endpoint} -> {r.status_code}"
    return spec._matches(r.status_code, r.text), f"GET {spec.endpoint} -> {r.status_code}"
