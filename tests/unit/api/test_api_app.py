from __future__ import annotations

from typing import Any

import httpx
import pytest

from dms.api.app import create_app
from dms.api.loopback import is_loopback
from dms.errors import NotFound

pytestmark = pytest.mark.unit


class FakeNode:
    def status(self) -> dict[str, Any]:
        return {"did": "did:key:zTest", "version": "x"}


def client(host: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_app(FakeNode()), client=(host, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.mark.parametrize("host", ["127.0.0.1", "127.5.6.7", "::1", "::ffff:127.0.0.1"])
async def test_loopback_clients_are_served(host: str) -> None:
    async with client(host) as c:
        r = await c.get("/health")
    assert r.status_code == 200 and r.json() == {"status": "ok"}


@pytest.mark.parametrize("host", ["10.1.2.3", "192.168.1.5", "2001:db8::1", "0.0.0.0", ""])
async def test_non_loopback_clients_are_refused(host: str) -> None:
    async with client(host) as c:
        r = await c.get("/health")
        r2 = await c.get("/api/v1/status")
    for resp in (r, r2):
        assert resp.status_code == 403
        err = resp.json()["error"]
        assert err["code"] == "forbidden" and "loopback" in err["message"] and err["hint"]


def test_is_loopback() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("8.8.8.8") and not is_loopback(None) and not is_loopback("nonsense")


async def test_errors_are_json_with_code_message_hint() -> None:
    async with client("127.0.0.1") as c:
        r = await c.get("/api/v1/nope")
    assert r.status_code == 404
    assert set(r.json()["error"]) >= {"code", "message", "hint"}


async def test_dms_error_maps_to_status_and_body() -> None:
    from fastapi import APIRouter

    router = APIRouter()

    @router.get("/api/v1/missing")
    async def missing() -> None:
        raise NotFound("deployment 'x' not found", hint="list them with `dms deployment list`")

    app = create_app(FakeNode(), extra_routers=[router])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("127.0.0.1", 1)),
                                 base_url="http://t") as c:
        r = await c.get("/api/v1/missing")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"
    assert "dms deployment list" in r.json()["error"]["hint"]


async def test_openapi_schema_lists_routes() -> None:
    async with client("127.0.0.1") as c:
        r = await c.get("/openapi.json")
    assert r.status_code == 200
    assert "/api/v1/status" in r.json()["paths"]
