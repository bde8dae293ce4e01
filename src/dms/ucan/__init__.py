"""UCAN 0.10 capability tokens for dms (see README.md).

Public surface: :class:`CapabilityContext` (what the actor layer and CLI use), the
capability algebra, token issue/parse, revocation records.
"""

from dms.ucan.capability import (
    BROADCAST,
    INVOKE,
    Capability,
    behavior_capability,
    requirements,
    topic_capability,
)
from dms.ucan.cid import cid_of, is_cid
from dms.ucan.context import Anchor, CapabilityContext, split_bundle
from dms.ucan.revocation import Revocation
from dms.ucan.token import UCAN_VERSION, Token, issue, load_verified, parse, verify_signature
from dms.ucan.verify import DEFAULT_MAX_DEPTH, DEFAULT_SKEW_S, Policy, authorize_chain

__all__ = [
    "BROADCAST", "DEFAULT_MAX_DEPTH", "DEFAULT_SKEW_S", "INVOKE", "UCAN_VERSION", "Anchor",
    "Capability", "CapabilityContext", "Policy", "Revocation", "Token", "authorize_chain",
    "behavior_capability", "cid_of", "is_cid", "issue", "load_verified", "parse",
    "requirements", "split_bundle", "topic_capability", "verify_signature",
]
