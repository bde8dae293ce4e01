"""ASGI middleware: the local API answers loopback peers only.

Binding to loopback is the first line; this is the second, for when someone binds the
API elsewhere (a config mistake, a container port mapping): a request whose peer
address is not loopback is refused with 403 before any route runs.
"""

from __future__ import annotations

import ipaddress
import json
from typing import Any

from dms.api.errors import error_body


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        addr = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(addr, "ipv4_mapped", None)
    return bool(addr.is_loopback or (mapped is not None and mapped.is_loopback))


class LoopbackOnly:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            client = scope.get("client")
            host = client[0] if client else None
            if not is_loopback(host):
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 1008})
                    return
                body = json.dumps(error_body(
                    "forbidden", f"the dms API answers loopback clients only, not {host}",
                    "call it from the node's own machine (127.0.0.1); use the p2p network "
                    "(dms actor cmd) to reach other nodes")).encode()
                await send({"type": "http.response.start", "status": 403,
                            "headers": [(b"content-type", b"application/json"),
                                        (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)
