"""Handlers for the public and peers behaviors (the node wires them in).

    /public/hello, /public/status        anyone (still signed, fresh, unique)
    /broadcast/hello on /nunet/hello     answered point to point to the broadcaster
    /dms/node/peers/{ping,list,self,dht,connect}   capability required
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from typing import Any, Protocol

from dms.actor.actor import Actor
from dms.actor.dispatcher import Handler, Message
from dms.errors import ValidationError

HELLO_TOPIC = "/nunet/hello"
PUBLIC_HELLO = "/public/hello"
PUBLIC_STATUS = "/public/status"
BROADCAST_HELLO = "/broadcast/hello"
PEERS = "/dms/node/peers"


class PeersNetwork(Protocol):
    """The part of :class:`dms.network.Network` the peers behaviors use."""

    peer_id: str

    def self_info(self) -> Any: ...

    def connected_peers(self) -> list[Any]: ...

    async def ping(self, peer_id: str, count: int = 1,
                   timeout: float = 5.0) -> list[float]: ...  # noqa: ASYNC109

    async def connect(self, addr: str) -> str: ...

    def dht_routing_table_size(self) -> int: ...

    async def find_peer(self, peer_id: str) -> Any: ...

    async def find_providers(self, key: str, count: int = 20) -> list[Any]: ...


def _hello(actor: Actor) -> dict[str, Any]:
    return {"did": actor.did, "peer_id": actor.handle.peer_id, "inbox": actor.handle.inbox}


def hello_handler(actor: Actor) -> Handler:
    async def hello(msg: Message) -> Any:
        return _hello(actor)
    return hello


def status_handler(status: Callable[[], dict[str, Any]]) -> Handler:
    async def public_status(msg: Message) -> Any:
        return status()
    return public_status


async def register_public(actor: Actor, status: Callable[[], dict[str, Any]] | None = None
                          ) -> None:
    """Register /public/hello, /public/status and /broadcast/hello (and join its topic)."""
    actor.register(PUBLIC_HELLO, hello_handler(actor), public=True)
    actor.register(PUBLIC_STATUS, status_handler(status or (lambda: {"status": "ok"})),
                   public=True)
    actor.register(BROADCAST_HELLO, hello_handler(actor), public=True)
    await actor.subscribe(HELLO_TOPIC)


async def hello_all(actor: Actor, window: float = 1.0) -> list[dict[str, Any]]:
    """Broadcast hello and return every answer that arrived within ``window``.

    Each answer gets ``rtt_ms``: milliseconds from publishing the hello to the arrival
    of that answer, measured here (a gossipsub hop out, a direct reply back).
    """
    replies = await actor.broadcast_collect(HELLO_TOPIC, BROADCAST_HELLO, {}, window=window)
    out: list[dict[str, Any]] = []
    for r in replies:
        if r.error is not None:
            continue
        answer = dict(r.result) if isinstance(r.result, dict) else {"answer": r.result}
        answer["rtt_ms"] = None if r.rtt_s is None else round(r.rtt_s * 1000.0, 3)
        out.append(answer)
    return out


def _arg(payload: Any, name: str, kind: type, default: Any = None) -> Any:
    value = payload.get(name, default) if isinstance(payload, dict) else default
    if value is None or not isinstance(value, kind):
        raise ValidationError(f"payload field {name!r} must be a {kind.__name__}",
                              hint=f"send {{\"{name}\": ...}}")
    return value


def peers_handlers(net: PeersNetwork) -> dict[str, Handler]:
    """Handlers for ``/dms/node/peers/*`` keyed by behavior."""

    async def ping(msg: Message) -> Any:
        peer = _arg(msg.payload, "peer_id", str)
        count = _arg(msg.payload, "count", int, 1)
        rtts = await net.ping(peer, max(1, min(count, 20)))
        return {"peer_id": peer, "rtt_ms": rtts, "avg_ms": statistics.fmean(rtts)}

    async def list_(msg: Message) -> Any:
        return {"peers": [p.to_dict() for p in net.connected_peers()]}

    async def self_(msg: Message) -> Any:
        return net.self_info().to_dict()

    async def dht(msg: Message) -> Any:
        payload = msg.payload if isinstance(msg.payload, dict) else {}
        out: dict[str, Any] = {"routing_table_size": net.dht_routing_table_size()}
        if isinstance(payload.get("peer_id"), str):
            found = await net.find_peer(payload["peer_id"])
            out["peer"] = found.to_dict() if found else None
        if isinstance(payload.get("providers_of"), str):
            out["providers"] = [p.to_dict() for p in
                                await net.find_providers(payload["providers_of"])]
        return out

    async def connect(msg: Message) -> Any:
        return {"peer_id": await net.connect(_arg(msg.payload, "addr", str))}

    return {f"{PEERS}/ping": ping, f"{PEERS}/list": list_, f"{PEERS}/self": self_,
            f"{PEERS}/dht": dht, f"{PEERS}/connect": connect}


def register_peers(actor: Actor, net: PeersNetwork) -> None:
    for behavior, handler in peers_handlers(net).items():
        actor.register(behavior, handler)
