"""Wire models of the actor layer (version 1). Every message type lives here.

An envelope on the wire is one JSON object (UTF-8), one per frame::

    {"v": 1, "to": {"did", "peer", "inbox"} | null, "from": {...}, "behavior": "/x/y",
     "nonce": "<hex>", "expiry": <unix seconds, float>, "reply_to": "/dms/actor/reply/<n>" | null,
     "topic": "/nunet/hello" | null, "payload": <JSON>, "tokens": ["<jwt>", ...],
     "sig": "<base64url Ed25519 signature>"}

Signed bytes (domain-separated, canonical)::

    b"dms-envelope-v1\\0" + JSON(every field but "sig"; keys sorted; separators "," ":";
                                 UTF-8, no ASCII escaping; NaN/Infinity refused)

Python's ``json`` writes floats as their shortest round-trip ``repr``, so a decoded
envelope re-encodes to the same bytes. A new wire version adds a new domain string
and a new ``v``; old versions are never changed in place.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from dms.errors import ValidationError

WIRE_VERSION = 1
WIRE_PREFIX = bytes([WIRE_VERSION])
SIG_LEN = 64
DOMAIN = b"dms-envelope-v1\x00"
REPLY_PREFIX = "/dms/actor/reply/"
ROOT_INBOX = "root"


# One encoder/decoder for the process: json.dumps(**options) builds a new encoder per call.
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                            allow_nan=False)
_DECODER = json.JSONDecoder()


def canonical_json(obj: Any) -> bytes:
    return _ENCODER.encode(obj).encode("utf-8")


_encode_str = json.encoder.encode_basestring  # what the encoder uses with ensure_ascii=False
_HANDLE_JSON: dict[Handle, str] = {}


def _handle_json(h: Handle) -> str:
    """The canonical JSON of a handle, memoized (a node talks to few actors)."""
    s = _HANDLE_JSON.get(h)
    if s is None:
        if len(_HANDLE_JSON) >= 4096:
            _HANDLE_JSON.clear()
        s = _HANDLE_JSON[h] = _ENCODER.encode(h.to_dict())
    return s


def _opt_str(s: str | None) -> str:
    return "null" if s is None else _encode_str(s)


def _fast_body(env: Envelope) -> bytes | None:
    """``canonical_json(env.body())`` assembled from parts (keys in sorted order), or
    ``None`` when a field has an unusual type and the generic encoder must decide."""
    expiry = env.expiry
    if type(expiry) is float:
        if expiry != expiry or expiry in (float("inf"), float("-inf")):
            return None
    elif type(expiry) is not int:
        return None
    tokens = env.tokens
    if type(tokens) is not list or type(env.version) is not int:
        return None
    for t in tokens:
        if type(t) is not str:
            return None
    for s in (env.behavior, env.nonce):
        if type(s) is not str:
            return None
    for o in (env.reply_to, env.topic):
        if o is not None and type(o) is not str:
            return None
    to = "null" if env.to is None else _handle_json(env.to)
    return "".join((
        '{"behavior":', _encode_str(env.behavior),
        ',"expiry":', repr(expiry),
        ',"from":', _handle_json(env.sender),
        ',"nonce":', _encode_str(env.nonce),
        ',"payload":', _ENCODER.encode(env.payload),
        ',"reply_to":', _opt_str(env.reply_to),
        ',"to":', to,
        ',"tokens":[', ",".join([_encode_str(t) for t in tokens]),
        '],"topic":', _opt_str(env.topic),
        ',"v":', repr(env.version), "}",
    )).encode("utf-8")


@dataclass(frozen=True, slots=True)
class Handle:
    """Names an actor: its DID, the libp2p peer that hosts it, and its inbox there."""

    did: str
    peer_id: str
    inbox: str = ROOT_INBOX

    def to_dict(self) -> dict[str, str]:
        return {"did": self.did, "peer": self.peer_id, "inbox": self.inbox}

    @classmethod
    def from_dict(cls, d: Any) -> Handle:
        if not isinstance(d, dict):
            raise ValidationError("a handle must be an object with did, peer and inbox")
        try:
            did, peer, inbox = d["did"], d["peer"], d.get("inbox", ROOT_INBOX)
        except KeyError as exc:
            raise ValidationError(f"handle misses {exc.args[0]!r}") from exc
        if not (isinstance(did, str) and isinstance(peer, str) and isinstance(inbox, str)
                and did and peer and inbox):
            raise ValidationError("handle fields must be non-empty strings")
        if cls is not Handle:
            return cls(did, peer, inbox)
        key = (did, peer, inbox)
        h = _HANDLES.get(key)
        if h is None:  # handles are immutable: decoded ones are shared (a node sees few)
            if len(_HANDLES) >= 4096:
                _HANDLES.clear()
            h = _HANDLES[key] = cls(did, peer, inbox)
        return h


_HANDLES: dict[tuple[str, str, str], Handle] = {}


@dataclass(slots=True)
class Envelope:
    """One signed actor message."""

    behavior: str
    sender: Handle
    nonce: str
    expiry: float
    to: Handle | None = None
    reply_to: str | None = None
    topic: str | None = None
    payload: Any = None
    tokens: list[str] = field(default_factory=list)
    signature: bytes = b""
    version: int = WIRE_VERSION
    raw_body: bytes | None = None  # the exact signed body, once encoded or received

    def body(self) -> dict[str, Any]:
        """Every field but the signature, as wire JSON."""
        return {"v": self.version, "to": self.to.to_dict() if self.to else None,
                "from": self.sender.to_dict(), "behavior": self.behavior, "nonce": self.nonce,
                "expiry": self.expiry, "reply_to": self.reply_to, "topic": self.topic,
                "payload": self.payload, "tokens": list(self.tokens)}

    def encoded_body(self) -> bytes:
        if self.raw_body is None:
            self.raw_body = _fast_body(self) or canonical_json(self.body())
        return self.raw_body

    def signing_bytes(self) -> bytes:
        return DOMAIN + self.encoded_body()

    def to_wire(self) -> bytes:
        if len(self.signature) != SIG_LEN:
            raise ValidationError("the envelope is not signed", hint="sign it first")
        return WIRE_PREFIX + self.signature + self.encoded_body()

    @property
    def is_reply(self) -> bool:
        return self.behavior.startswith(REPLY_PREFIX)

    @classmethod
    def from_wire(cls, data: bytes) -> Envelope:
        if data[:1] != WIRE_PREFIX:
            raise ValidationError(f"unsupported wire version {data[:1]!r}",
                                  hint=f"this node speaks envelope v{WIRE_VERSION}; upgrade dms")
        if len(data) < 1 + SIG_LEN + 2:
            raise ValidationError("message too short to be an envelope")
        sig, raw = data[1:1 + SIG_LEN], data[1 + SIG_LEN:]
        try:
            d = _DECODER.decode(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValidationError(f"message is not JSON: {exc}") from exc
        if not isinstance(d, dict):
            raise ValidationError("message is not a JSON object")
        if d.get("v") != WIRE_VERSION:
            raise ValidationError(f"unsupported envelope version {d.get('v')!r}",
                                  hint=f"this node speaks envelope v{WIRE_VERSION}; upgrade dms")
        try:
            behavior, nonce, expiry = d["behavior"], d["nonce"], d["expiry"]
            sender = Handle.from_dict(d["from"])
        except KeyError as exc:
            raise ValidationError(f"envelope misses {exc.args[0]!r}") from exc
        to = d.get("to")
        if to is not None:
            to = Handle.from_dict(to)
        tokens = d.get("tokens") or []
        reply_to, topic = d.get("reply_to"), d.get("topic")
        if not (isinstance(behavior, str) and behavior.startswith("/")):
            raise ValidationError("behavior must be a path like /public/hello")
        if not isinstance(nonce, str) or not 8 <= len(nonce) <= 64:
            raise ValidationError("nonce must be a string of 8 to 64 characters")
        if not isinstance(expiry, int | float) or isinstance(expiry, bool):
            raise ValidationError("expiry must be a number (unix seconds)")
        if not isinstance(tokens, list) or (tokens and not all(isinstance(t, str)
                                                               for t in tokens)):
            raise ValidationError("tokens must be a list of strings")
        if reply_to is not None and not isinstance(reply_to, str):
            raise ValidationError("reply_to must be a string or null")
        if topic is not None and not isinstance(topic, str):
            raise ValidationError("topic must be a string or null")
        return cls(behavior=behavior, sender=sender, nonce=nonce, expiry=expiry, to=to,
                   reply_to=reply_to, topic=topic, payload=d.get("payload"),
                   tokens=tokens, signature=sig, raw_body=raw)


def ok_payload(result: Any) -> dict[str, Any]:
    """The payload of a successful reply."""
    return {"result": result}


def error_payload(err: dict[str, Any]) -> dict[str, Any]:
    """The payload of an error reply: ``{"error": {"code", "message", "hint", ...}}``."""
    return {"error": err}
