"""The capability algebra (pure): how dms abilities map onto UCAN capabilities.

A UCAN capability is a (resource, ability) pair. dms encodes:

    behavior path  /dms/deployment   ->  ("dms:/dms/deployment",   "dms/invoke")
    broadcast topic /nunet/hello     ->  ("topic:/nunet/hello",    "dms/broadcast")
    everything                       ->  ("dms:/",                 "dms/invoke")

Resources of the ``dms:`` and ``topic:`` schemes are paths; a path implies every path
below it by whole segments (``/dms/deployment`` implies ``/dms/deployment/bid``, not
``/dms/deploymentX``; ``/`` implies all). An ability implies itself, ``*`` implies all
abilities, and ``ns/*`` implies every ``ns/...``. Resources of other schemes only imply
themselves (exact match), so foreign tokens never widen dms rights by accident.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from dms.errors import ValidationError

INVOKE = "dms/invoke"
BROADCAST = "dms/broadcast"
BEHAVIOR_SCHEME = "dms"
TOPIC_SCHEME = "topic"
_PATH_SCHEMES = frozenset({BEHAVIOR_SCHEME, TOPIC_SCHEME})

__all__ = ["BROADCAST", "INVOKE", "Capability", "behavior_capability", "covered_by",
           "decode_att", "decode_cap_map", "encode_att", "encode_cap_map",
           "normalize_path", "path_implies", "requirements", "topic_capability"]


@dataclass(frozen=True, slots=True)
class Capability:
    resource: str
    ability: str

    def covers(self, other: Capability) -> bool:
        return _covers(self.resource, self.ability, other.resource, other.ability)

    def __str__(self) -> str:
        return f"{self.resource} {self.ability}"

    @property
    def label(self) -> str:
        """The dms name: a behavior path, ``topic <path>``, or the raw pair."""
        scheme, _, rest = self.resource.partition(":")
        if scheme == BEHAVIOR_SCHEME and self.ability == INVOKE:
            return rest
        if scheme == TOPIC_SCHEME and self.ability == BROADCAST:
            return f"topic {rest}"
        return str(self)


def normalize_path(path: str) -> str:
    """``/a/b/`` -> ``/a/b``; must start with ``/``; no empty or dot segments."""
    if not isinstance(path, str) or not path.startswith("/"):
        raise ValidationError(f"ability {path!r} is not a path",
                              hint="abilities are behavior paths such as /dms/node/peers/list")
    segs = [s for s in path.split("/") if s]
    if any(s in (".", "..") for s in segs):
        raise ValidationError(f"ability {path!r} has '.' or '..' segments",
                              hint="write the path out in full")
    return "/" + "/".join(segs)


def behavior_capability(path: str) -> Capability:
    return Capability(f"{BEHAVIOR_SCHEME}:{normalize_path(path)}", INVOKE)


def topic_capability(topic: str) -> Capability:
    return Capability(f"{TOPIC_SCHEME}:{normalize_path(topic)}", BROADCAST)


@lru_cache(maxsize=1024)
def requirements(ability: str, topic: str | None = None) -> tuple[Capability, ...]:
    """What an invocation of behavior ``ability`` (on ``topic``, for a broadcast) needs."""
    caps = [behavior_capability(ability)]
    if topic is not None:
        caps.append(topic_capability(topic))
    return tuple(caps)


def path_implies(parent: str, child: str) -> bool:
    """Both normalized. True when ``parent`` is ``child`` or a whole-segment prefix."""
    if parent == "/" or parent == child:
        return True
    return len(child) > len(parent) and child.startswith(parent) and child[len(parent)] == "/"


def _ability_implies(parent: str, child: str) -> bool:
    p, c = parent.lower(), child.lower()
    if p == c or p == "*":
        return True
    return p.endswith("/*") and c.startswith(p[:-1])


@lru_cache(maxsize=8192)
def _covers(p_res: str, p_ab: str, c_res: str, c_ab: str) -> bool:
    if not _ability_implies(p_ab, c_ab):
        return False
    p_scheme, _, p_rest = p_res.partition(":")
    c_scheme, _, c_rest = c_res.partition(":")
    if p_scheme.lower() != c_scheme.lower():
        return False
    if p_scheme.lower() in _PATH_SCHEMES:
        if not (p_rest.startswith("/") and c_rest.startswith("/")):
            return False
        return path_implies(_norm_lenient(p_rest), _norm_lenient(c_rest))
    return p_rest == c_rest


def _norm_lenient(path: str) -> str:
    segs = [s for s in path.split("/") if s]
    if any(s in (".", "..") for s in segs):
        return "/\0invalid"  # never matches anything real
    return "/" + "/".join(segs)


def covered_by(need: Capability, caps: Iterable[Capability]) -> bool:
    return any(c.covers(need) for c in caps)


# -- wire encodings --------------------------------------------------------------------

def encode_cap_map(caps: Iterable[Capability]) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """UCAN 0.10 ``cap``: {resource: {ability: [caveats]}}; ``[{}]`` = no caveats."""
    out: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for c in caps:
        out.setdefault(c.resource, {})[c.ability] = [{}]
    return out


def decode_cap_map(cap: Mapping[str, Any]) -> tuple[Capability, ...]:
    """Parse a 0.10 ``cap`` map. Entries with caveats dms does not understand are
    dropped: caveats only narrow, so ignoring the entry is the safe reading."""
    out: list[Capability] = []
    for res, abilities in cap.items():
        if not isinstance(res, str) or not isinstance(abilities, Mapping):
            raise ValueError("cap must map resource strings to ability maps")
        for ab, caveats in abilities.items():
            if not isinstance(ab, str) or not isinstance(caveats, list):
                raise ValueError("cap abilities must map to caveat lists")
            if caveats and all(isinstance(cv, Mapping) and not cv for cv in caveats):
                out.append(Capability(res, ab))
    return tuple(out)


def encode_att(caps: Iterable[Capability]) -> list[dict[str, str]]:
    """UCAN 0.8/0.9 ``att`` (what @ucans/ucans reads): [{with, can}]."""
    return [{"with": c.resource, "can": c.ability} for c in caps]


def decode_att(att: Iterable[Any]) -> tuple[Capability, ...]:
    out: list[Capability] = []
    for a in att:
        if not isinstance(a, Mapping) or not isinstance(a.get("with"), str) \
                or not isinstance(a.get("can"), str):
            raise ValueError("att entries must be {with: str, can: str}")
        out.append(Capability(a["with"], a["can"]))
    return tuple(out)
