"""Helpers for the network functional tests (imported by name: keep the name unique)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import trio

from dms.network import Network, NetworkSettings

MakeNet = Callable[..., Awaitable[Network]]


def loopback(**kw: Any) -> NetworkSettings:
    base: dict[str, Any] = {"listen_addrs": ["/ip4/127.0.0.1/tcp/0"], "mdns": False}
    base.update(kw)
    return NetworkSettings(**base)


async def wait_until(pred: Callable[[], bool], within: float = 10.0, what: str = "") -> None:
    """Poll ``pred`` (state owned by libp2p has no event to wait on)."""
    with trio.move_on_after(within):
        while not pred():  # noqa: ASYNC110
            await trio.sleep(0.05)
        return
    raise AssertionError(f"timed out waiting for {what or pred}")
