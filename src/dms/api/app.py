"""The FastAPI application: routes are thin; the node does the work."""

from __future__ import annotations

from typing import Any, Protocol

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from dms._version import __version__
from dms.api.errors import dms_error_handler, http_error_handler, validation_error_handler
from dms.api.loopback import LoopbackOnly
from dms.errors import DMSError
from dms.telemetry import metrics


class NodeAPI(Protocol):
    """What the API needs from the node."""

    def status(self) -> dict[str, Any]: ...


def create_app(node: NodeAPI, *, extra_routers: list[Any] | None = None) -> Any:
    app = FastAPI(title="dms local API", version=__version__,
                  description="Local-only API of a dms node. Answers loopback clients only.")
    app.state.node = node
    app.add_exception_handler(DMSError, dms_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)

    @app.get("/health", tags=["node"], summary="Liveness: answers once the node is ready")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/api/v1/status", tags=["node"], summary="Node identity, version and uptime")
    async def status(request: Request) -> dict[str, Any]:
        return dict(request.app.state.node.status())

    app.state.metrics = metrics.new_registry(node)

    @app.get("/metrics", tags=["telemetry"], response_class=Response,
             summary="Prometheus metrics (text exposition format)",
             responses={200: {"content": {metrics.CONTENT_TYPE: {}},
                              "description": "dms_* and process_* metrics"}})
    async def prometheus_metrics(request: Request) -> Response:
        # async on purpose: the collector reads the store on the loop's own thread
        return Response(metrics.render(request.app.state.metrics),
                        media_type=metrics.CONTENT_TYPE)

    for router in extra_routers or ():
        app.include_router(router)
    return LoopbackOnly(app)
