"""Helpers for the actor functional tests (imported by name: keep the name unique)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import trio

from dms.actor import Actor, AllowList, Router
from dms.network import Network


@dataclass
class Node:
    net: Network
    router: Router
    actor: Actor
    auth: AllowList


MakeNode = Callable[..., Awaitable[Node]]


async def wait_until(pred: Callable[[], bool], within: float = 10.0, what: str = "") -> None:
    """Poll ``pred`` (peer state owned by libp2p has no event to wait on)."""
    with trio.move_on_after(within):
        while not pred():  # noqa: ASYNC110
            await trio.sleep(0.05)
        return
    raise AssertionError(f"timed out waiting for {what or pred}")
