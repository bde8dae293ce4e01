"""Pure functions over :mod:`dms.resources.model`: compare, fit, add, subtract, rank.

Comparison is a dominance order per dimension (cpu, ram, disk, gpus):

    BETTER        every known figure >=, at least one >
    EQUAL         every known figure ==
    WORSE         every known figure <=, at least one <
    INCOMPARABLE  figures disagree, or the CPU architectures differ

Unknown (``None``) figures are ignored on both sides. Overall: all EQUAL -> EQUAL; only
BETTER/EQUAL -> BETTER; only WORSE/EQUAL -> WORSE; anything else -> INCOMPARABLE. So
``compare(a, b).overall is BETTER`` exactly when ``compare(b, a).overall is WORSE``.

GPUs in arithmetic are addressed by index: ``add`` adds VRAM of the same index (or adds
the GPU), ``subtract`` removes VRAM from the same index and drops a GPU whose VRAM
reaches 0. A share of a GPU is its VRAM bytes; the whole GPU is a share equal to its
full VRAM, after which it has nothing left to give. ``fits`` lets an exact fit count
(the Go DMS required strictly better, so an exact fit never bid).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import Enum

from dms.resources.model import GPU, Location, MachineCapability, Resources
from dms.resources.units import format_size


class Comparison(Enum):
    BETTER = "better"
    WORSE = "worse"
    EQUAL = "equal"
    INCOMPARABLE = "incomparable"

    def inverse(self) -> Comparison:
        return {Comparison.BETTER: Comparison.WORSE,
                Comparison.WORSE: Comparison.BETTER}.get(self, self)


@dataclass(frozen=True)
class ComparisonResult:
    overall: Comparison
    dimensions: dict[str, Comparison]


def _dominance(pairs: Sequence[tuple[float | None, float | None]]) -> Comparison:
    greater = less = False
    for a, b in pairs:
        if a is None or b is None:
            continue
        greater |= a > b
        less |= a < b
    if greater and less:
        return Comparison.INCOMPARABLE
    return Comparison.BETTER if greater else Comparison.WORSE if less else Comparison.EQUAL


def combine(parts: Sequence[Comparison]) -> Comparison:
    kinds = set(parts) - {Comparison.EQUAL}
    if not kinds:
        return Comparison.EQUAL
    return kinds.pop() if len(kinds) == 1 else Comparison.INCOMPARABLE


def _gpu_vram_vector(gpus: Sequence[GPU], n: int) -> list[int]:
    v = sorted((g.vram for g in gpus), reverse=True)
    return v + [0] * (n - len(v))


def compare(a: Resources, b: Resources) -> ComparisonResult:
    """How ``a`` stands against ``b``, per dimension and overall."""
    dims: dict[str, Comparison] = {}
    if a.cpu.architecture and b.cpu.architecture and a.cpu.architecture != b.cpu.architecture:
        dims["cpu"] = Comparison.INCOMPARABLE
    else:
        dims["cpu"] = _dominance([(a.cpu.cores, b.cpu.cores),
                                  (a.cpu.clock_speed_hz, b.cpu.clock_speed_hz)])
    dims["ram"] = _dominance([(a.ram.size, b.ram.size),
                              (a.ram.clock_speed_hz, b.ram.clock_speed_hz)])
    dims["disk"] = _dominance([(a.disk.size, b.disk.size),
                               (a.disk.read_speed_mbps, b.disk.read_speed_mbps),
                               (a.disk.write_speed_mbps, b.disk.write_speed_mbps)])
    n = max(len(a.gpus), len(b.gpus))
    dims["gpus"] = _dominance(list(zip(_gpu_vram_vector(a.gpus, n),
                                       _gpu_vram_vector(b.gpus, n), strict=True)))
    return ComparisonResult(combine(list(dims.values())), dims)


# ---------------------------------------------------------------- arithmetic

class ResourceUnderflow(ValueError):
    """Subtracting more than there is."""


def _require_indexed(gpus: Sequence[GPU], what: str) -> None:
    if any(g.index is None for g in gpus):
        raise ValueError(f"{what}: GPU arithmetic needs GPU indices (use assign_gpus first)")


def add(a: Resources, b: Resources) -> Resources:
    """Amounts of ``a`` plus ``b``; descriptive fields come from ``a`` (or ``b`` for new GPUs)."""
    _require_indexed(a.gpus, "add")
    _require_indexed(b.gpus, "add")
    gpus = {g.index: g for g in a.gpus}
    for g in b.gpus:
        have = gpus.get(g.index)
        gpus[g.index] = g if have is None else replace(have, vram=have.vram + g.vram)
    return replace(a, cpu=replace(a.cpu, cores=a.cpu.cores + b.cpu.cores),
                   ram=replace(a.ram, size=a.ram.size + b.ram.size),
                   disk=replace(a.disk, size=a.disk.size + b.disk.size),
                   gpus=tuple(gpus[i] for i in sorted(gpus)))  # type: ignore[type-var]


def subtract(a: Resources, b: Resources) -> Resources:
    """``a`` minus ``b``; raises :class:`ResourceUnderflow` if ``b`` holds more than ``a``."""
    _require_indexed(a.gpus, "subtract")
    _require_indexed(b.gpus, "subtract")
    cores = round(a.cpu.cores - b.cpu.cores, 3)
    ram, disk = a.ram.size - b.ram.size, a.disk.size - b.disk.size
    if cores < 0 or ram < 0 or disk < 0:
        raise ResourceUnderflow(f"cannot take {_amounts(b)} from {_amounts(a)}")
    gpus = {g.index: g for g in a.gpus}
    for g in b.gpus:
        have = gpus.get(g.index)
        if have is None or have.vram < g.vram:
            raise ResourceUnderflow(f"cannot take {format_size(g.vram)} from GPU {g.index}")
        left = have.vram - g.vram
        if left == 0:
            del gpus[g.index]
        else:
            gpus[g.index] = replace(have, vram=left)
    return replace(a, cpu=replace(a.cpu, cores=cores), ram=replace(a.ram, size=ram),
                   disk=replace(a.disk, size=disk),
                   gpus=tuple(gpus[i] for i in sorted(gpus)))  # type: ignore[type-var]


def total(items: Sequence[Resources]) -> Resources:
    out = Resources()
    for r in items:
        out = add(out, r.amounts())
    return out


def _amounts(r: Resources) -> str:
    gpus = ", ".join(f"GPU {g.index}: {format_size(g.vram)}" for g in r.gpus)
    base = f"{r.cpu.cores:g} cores, {format_size(r.ram.size)} RAM, {format_size(r.disk.size)} disk"
    return f"{base}, {gpus}" if gpus else base


# ---------------------------------------------------------------- fitting

@dataclass(frozen=True)
class FitResult:
    ok: bool
    reasons: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.ok


def _gpu_accepts(want: GPU, have: GPU) -> bool:
    if want.index is not None and want.index != have.index:
        return False
    if want.vendor and have.vendor and want.vendor.lower() != have.vendor.lower():
        return False
    if want.vendor and not have.vendor:
        return False
    if want.model and (not have.model or want.model.lower() not in have.model.lower()):
        return False
    return have.vram >= want.vram


def assign_gpus(wanted: Sequence[GPU], available: Sequence[GPU]) -> tuple[GPU, ...] | None:
    """A distinct available GPU per wanted one (maximum bipartite matching), returned as
    the wanted shares with concrete indices; ``None`` when no assignment exists."""
    match: dict[int, int] = {}  # available position -> wanted position

    def augment(w: int, seen: set[int]) -> bool:
        for a, have in enumerate(available):
            if a in seen or not _gpu_accepts(wanted[w], have):
                continue
            seen.add(a)
            if a not in match or augment(match[a], seen):
                match[a] = w
                return True
        return False

    for w in range(len(wanted)):
        if not augment(w, set()):
            return None
    by_wanted = {w: a for a, w in match.items()}
    return tuple(replace(available[by_wanted[w]], vram=wanted[w].vram)
                 for w in range(len(wanted)))


def fits(request: Resources, available: Resources) -> FitResult:
    """Whether ``request`` can be served from ``available`` (an exact fit counts)."""
    reasons: list[str] = []
    rc, ac = request.cpu, available.cpu
    if rc.architecture and ac.architecture and rc.architecture != ac.architecture:
        reasons.append(f"needs a {rc.architecture} CPU, this is {ac.architecture}")
    if rc.cores > ac.cores:
        reasons.append(f"needs {rc.cores:g} cores, {ac.cores:g} available")
    if rc.clock_speed_hz and ac.clock_speed_hz and rc.clock_speed_hz > ac.clock_speed_hz:
        reasons.append(f"needs a {rc.clock_speed_hz / 1e9:.2f} GHz clock, "
                       f"this has {ac.clock_speed_hz / 1e9:.2f} GHz")
    if request.ram.size > available.ram.size:
        reasons.append(f"needs {format_size(request.ram.size)} RAM, "
                       f"{format_size(available.ram.size)} available")
    if request.disk.size > available.disk.size:
        reasons.append(f"needs {format_size(request.disk.size)} disk, "
                       f"{format_size(available.disk.size)} available")
    if request.disk.type and request.disk.type != available.disk.type:
        reasons.append(f"needs a {request.disk.type} disk, this is {available.disk.type or 'unknown'}")
    if request.gpus and assign_gpus(request.gpus, available.gpus) is None:
        want = ", ".join(_describe_gpu(g) for g in request.gpus)
        have = ", ".join(_describe_gpu(g) for g in available.gpus) or "none"
        reasons.append(f"needs GPUs [{want}], available [{have}]")
    return FitResult(not reasons, reasons)


def _describe_gpu(g: GPU) -> str:
    parts = [f"#{g.index}" if g.index is not None else "any",
             g.vendor or "", g.model or "", format_size(g.vram)]
    return " ".join(p for p in parts if p)


# ---------------------------------------------------------------- ranking

@dataclass(frozen=True)
class Requirements:
    """Hard constraints: all must hold for a machine to be eligible."""

    resources: Resources = field(default_factory=Resources)
    executors: tuple[str, ...] = ()  # any one of these
    locations: tuple[Location, ...] = ()  # any one of these (empty: anywhere)
    exclude_locations: tuple[Location, ...] = ()
    max_price_per_hour: float | None = None


@dataclass(frozen=True)
class Preferences:
    """Soft preferences: they order eligible machines, never exclude one."""

    locations: tuple[Location, ...] = ()
    location_weight: float = 1.0
    headroom_weight: float = 1.0
    performance_weight: float = 1.0
    price_weight: float = 1.0


def location_matches(want: Location, have: Location) -> bool:
    """Every field ``want`` sets equals ``have``'s (case-insensitive for text)."""
    for name in ("continent", "country", "city", "asn", "isp"):
        w, h = getattr(want, name), getattr(have, name)
        if w is None:
            continue
        if h is None or (str(w).lower() != str(h).lower()):
            return False
    return True


def check(req: Requirements, cap: MachineCapability) -> FitResult:
    """The hard constraints of ``req`` against ``cap`` (resources, executors, location, price)."""
    res = fits(req.resources, cap.resources)
    reasons = list(res.reasons)
    if req.executors and not set(req.executors) & set(cap.executors):
        reasons.append(f"needs one of executors {list(req.executors)}, "
                       f"has {list(cap.executors) or 'none'}")
    if req.locations and not any(location_matches(w, cap.location) for w in req.locations):
        reasons.append("location is not among the accepted ones")
    if any(location_matches(x, cap.location) for x in req.exclude_locations):
        reasons.append("location is excluded")
    if req.max_price_per_hour is not None:
        price = cap.price.hourly(req.resources)
        if price > req.max_price_per_hour:
            reasons.append(f"asks {price:g} {cap.price.currency}/h, limit is "
                           f"{req.max_price_per_hour:g}")
    return FitResult(not reasons, reasons)


def score(req: Requirements, cap: MachineCapability, prefs: Preferences | None = None) -> float:
    """Rank for an eligible machine (higher is better); ``-inf`` when ``check`` fails.

    Terms, each weighted: location preference (1 when a preferred location matches),
    headroom (mean fraction of cpu/ram/disk left after the request, 0..1), performance
    (log10 of the multi-core CPU score, 0 when unknown) and price (1 / (1 + price/h))."""
    if not check(req, cap).ok:
        return -math.inf
    p = prefs or Preferences()
    s = 0.0
    if p.locations and any(location_matches(w, cap.location) for w in p.locations):
        s += p.location_weight
    s += p.headroom_weight * _headroom(req.resources, cap.resources)
    if cap.scores.cpu_multi_ops:
        s += p.performance_weight * math.log10(max(cap.scores.cpu_multi_ops, 1.0)) / 10
    s += p.price_weight / (1.0 + cap.price.hourly(req.resources))
    return s


def _headroom(want: Resources, have: Resources) -> float:
    fractions = []
    for w, h in ((want.cpu.cores, have.cpu.cores), (want.ram.size, have.ram.size),
                 (want.disk.size, have.disk.size)):
        if h > 0:
            fractions.append(max(0.0, (h - w) / h))
    return sum(fractions) / len(fractions) if fractions else 0.0


__all__ = ["Comparison", "ComparisonResult", "FitResult", "Preferences",
           "Requirements", "ResourceUnderflow", "add", "assign_gpus", "check", "combine",
           "compare", "fits", "location_matches", "score", "subtract", "total"]
