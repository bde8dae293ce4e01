from __future__ import annotations

from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from dms.api.app import create_app
from dms.telemetry.metrics import CONTENT_TYPE

pytestmark = pytest.mark.unit


class FakeNode:
    did = "did:key:zApi"
    started = 0.0
    available_executors = {"noop": {}}

    def status(self) -> dict[str, Any]:
        return {"did": self.did}


def client(host: str, app: Any | None = None) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app or create_app(FakeNode()), client=(host, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def test_metrics_in_text_format() -> None:
    async with client("127.0.0.1") as c:
        r = await c.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"] == CONTENT_TYPE
    fams = {f.name: f for f in text_string_to_metric_families(r.text)}
    assert fams["dms_info"].samples[0].labels["did"] == "did:key:zApi"
    assert fams["dms_executor_available"].samples[0].labels == {"executor": "noop"}
    assert "process_cpu_seconds" in fams  # the parser drops the _total suffix of counters


async def test_metrics_refused_to_non_loopback_clients() -> None:
    async with client("192.0.2.7") as c:
        r = await c.get("/metrics")
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "forbidden"


async def test_metrics_listed_in_openapi() -> None:
    async with client("127.0.0.1") as c:
        schema = (await c.get("/openapi.json")).json()
    op = schema["paths"]["/metrics"]["get"]
    assert op["tags"] == ["telemetry"]
    assert CONTENT_TYPE in op["responses"]["200"]["content"]


async def test_two_apps_in_one_process_keep_their_own_metrics() -> None:
    a, b = FakeNode(), FakeNode()
    b.did = "did:key:zOther"
    async with client("127.0.0.1", create_app(a)) as ca, client("127.0.0.1", create_app(b)) as cb:
        ta, tb = (await ca.get("/metrics")).text, (await cb.get("/metrics")).text
    assert 'did="did:key:zApi"' in ta and "zOther" not in ta
    assert 'did="did:key:zOther"' in tb and "zApi" not in tb
