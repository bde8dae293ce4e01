"""Signed calls from the CLI to a node's behaviors.

The CLI holds the `user` key: it builds an envelope from the user, to the local node
(or to `--dest`, a peer id or DID on the network), attaches the user context's
capability tokens, signs it, and hands it to the local daemon's API, which delivers it
and returns the signed reply. The destination authorizes the user, not the daemon.
"""

from __future__ import annotations

import base64
import secrets
import time
from pathlib import Path
from typing import Any

from dms.cli.client import ApiClient

USER_KEY = "user"


class Caller:
    def __init__(self, home: Path, *, api_port: int | None = None) -> None:
        self.home = home
        self.api = ApiClient(home, port=api_port)
        self._status: dict[str, Any] | None = None
        self._key: Any = None
        self._ctx: Any = None

    @property
    def node(self) -> dict[str, Any]:
        if self._status is None:
            self._status = self.api.get("/api/v1/status")
        return self._status

    def _user(self) -> tuple[Any, Any]:
        if self._key is None:
            from dms.cli.passphrase import get_passphrase
            from dms.crypto.keystore import Keystore
            from dms.ucan import CapabilityContext

            self._key = Keystore(self.home / "keys").load(USER_KEY, get_passphrase())
            self._ctx = CapabilityContext.load(self.home / "cap" / "user.json", self._key)
        return self._key, self._ctx

    def dest_handle(self, dest: str | None) -> Any:
        from dms.actor.wire import ROOT_INBOX, Handle

        if not dest:
            return Handle(self.node["did"], self.node["peer_id"], ROOT_INBOX)
        if dest.startswith("did:key:"):
            raise_for = "a DID alone does not say where the actor lives"
            from dms.errors import ValidationError

            raise ValidationError(f"--dest {dest}: {raise_for}",
                                  hint="pass the peer id (12D3KooW...) of the node instead")
        from dms.node.node import did_of_peer

        return Handle(did_of_peer(dest), dest, ROOT_INBOX)

    def call(self, behavior: str, payload: Any = None, *, dest: str | None = None,
             timeout: float = 30.0, reply: bool = True) -> Any:
        """The result of ``behavior`` at ``dest`` (the local node by default); with
        ``reply=False`` the message is only delivered (``{"sent": True}``)."""
        from dms.actor.signing import sign
        from dms.actor.wire import REPLY_PREFIX, Envelope, Handle

        key, ctx = self._user()
        to = self.dest_handle(dest)
        nonce = secrets.token_hex(12)
        sender = Handle(key.did, self.node["peer_id"], "cli-" + nonce[:12])
        env = Envelope(behavior=behavior, sender=sender, nonce=nonce,
                       expiry=round(time.time() + timeout + 10, 3), to=to,
                       reply_to=REPLY_PREFIX + nonce if reply else None, payload=payload,
                       tokens=ctx.proofs_for(to.did, behavior))
        sign(env, key)
        body = {"envelope": base64.b64encode(env.to_wire()).decode(), "timeout": timeout}
        self.api._client.timeout = timeout + 15  # type: ignore[assignment]
        out = self.api.post("/api/v1/actor/envelope", json=body)
        if isinstance(out, dict) and "result" in out and "sent" not in out:
            return out["result"]
        return out
