"""JSON error bodies: ``{"error": {"code", "message", "hint", "retryable"}}``."""

from __future__ import annotations

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from dms.errors import DMSError

HTTP_STATUS = {
    "not_found": 404,
    "invalid": 422,
    "unauthorized": 403,
    "forbidden": 403,
    "config": 400,
    "timeout": 504,
    "network": 502,
    "remote": 502,
    "conflict": 409,
}


def error_body(code: str, message: str, hint: str = "", retryable: bool = False) -> dict:
    return {"error": {"code": code, "message": message, "hint": hint, "retryable": retryable}}


async def dms_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DMSError)
    return JSONResponse(status_code=HTTP_STATUS.get(exc.code, 500), content={"error": exc.to_dict()})


async def validation_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    parts = []
    for e in exc.errors():
        loc = ".".join(str(p) for p in e.get("loc", ()) if p != "body")
        parts.append(f"{loc}: {e.get('msg')}")
    return JSONResponse(status_code=422, content=error_body(
        "invalid", "invalid request: " + "; ".join(parts),
        "see the OpenAPI schema at /openapi.json for the expected body"))


async def http_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http")
    hint = "see /docs or /openapi.json for the available endpoints" if exc.status_code in (404, 405) else ""
    return JSONResponse(status_code=exc.status_code, content=error_body(code, str(exc.detail), hint))
