"""API routes that need the node's network: the CLI's signed calls.

    dms CLI ──POST /api/v1/actor/envelope {envelope signed by the user key}──▶ node
       node: attach a reply inbox for the caller, deliver the envelope as it is (to itself
       or to a remote peer), wait for the signed reply, hand it back.

The node never signs for the user: the destination checks the user's own signature
and capability tokens, so even a local caller needs a capability the node trusts.
"""

from __future__ import annotations

import base64
from typing import Any

import trio
from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from dms.actor.signing import NonceCache, verify
from dms.actor.wire import Envelope, Handle
from dms.errors import AuthError, DMSError, Timeout, ValidationError

router = APIRouter(prefix="/api/v1", tags=["actor"])
CLI_INBOX_PREFIX = "cli-"
_replay = NonceCache()


class EnvelopeCall(BaseModel):
    envelope: str = Field(description="the signed envelope in wire form, base64")
    timeout: float = Field(30.0, gt=0, le=3600, description="seconds to wait for the reply")


class _ReplyInbox:
    """A one-shot inbox on the node router that receives the reply for a CLI call."""

    def __init__(self, handle: Handle) -> None:
        self.handle = handle
        self.reply: Envelope | None = None
        self.event = trio.Event()

    def on_reply(self, env: Envelope) -> None:
        if self.reply is None:
            self.reply = env
            self.event.set()

    async def on_request(self, env: Envelope) -> None:  # not a service: ignore requests
        return None


@router.post("/actor/envelope", summary="Deliver a signed envelope and return its reply")
async def call(body: EnvelopeCall, request: Request) -> Any:
    node = request.app.state.node
    try:
        env = Envelope.from_wire(base64.b64decode(body.envelope, validate=True))
    except (ValueError, DMSError) as exc:
        raise ValidationError(f"not an envelope: {exc}",
                              hint="build it with the dms CLI (`dms actor cmd`)") from exc
    if env.to is None:
        raise ValidationError("the envelope has no destination ('to')")
    peer = node.network.peer_id
    if env.sender.peer_id != peer or not env.sender.inbox.startswith(CLI_INBOX_PREFIX):
        raise AuthError("a CLI envelope must come from this node's peer and a cli- inbox",
                        hint="sign it with `dms actor cmd`, which sets the sender handle")
    verify(env, _replay)  # signature, expiry and replay before anything is sent on
    inbox = _ReplyInbox(env.sender)
    node.router.attach(inbox)
    try:
        await node.router.deliver(env.to, env)
        if not env.reply_to:
            return {"result": None, "sent": True}
        with trio.move_on_after(body.timeout):
            await inbox.event.wait()
    finally:
        node.router.detach(env.sender.inbox)
    if inbox.reply is None:
        raise Timeout(f"no reply to {env.behavior} from {env.to.did} within {body.timeout:g} s",
                      hint="the peer may be gone or slow; raise --timeout")
    reply = inbox.reply
    verify(reply, _replay)
    if reply.sender.did != env.to.did:
        raise AuthError(f"reply came from {reply.sender.did}, expected {env.to.did}")
    payload = reply.payload
    if isinstance(payload, dict) and isinstance(payload.get("error"), dict):
        from dms.errors import from_dict

        raise from_dict(payload["error"])
    return payload
