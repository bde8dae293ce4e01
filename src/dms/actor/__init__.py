"""Actors and messages: handles, signed envelopes, the dispatcher, send/invoke/broadcast."""

from dms.actor.actor import Actor, Reply
from dms.actor.authorizer import AllowList, Authorizer, ability_implies
from dms.actor.dispatcher import Dispatcher, Handler, Message
from dms.actor.router import Router
from dms.actor.signing import NonceCache, sign, verify
from dms.actor.wire import Envelope, Handle

__all__ = ["Actor", "AllowList", "Authorizer", "Dispatcher", "Envelope", "Handle", "Handler",
           "Message", "NonceCache", "Reply", "Router", "ability_implies", "sign", "verify"]
