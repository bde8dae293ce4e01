from __future__ import annotations

import math
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dms.resources.compare import (
    Comparison,
    Preferences,
    Requirements,
    ResourceUnderflow,
    add,
    assign_gpus,
    check,
    compare,
    fits,
    score,
    subtract,
)
from dms.resources.model import (
    CPU,
    GPU,
    Disk,
    Location,
    MachineCapability,
    PricePreferences,
    Resources,
)

pytestmark = pytest.mark.unit
GiB = 2**30

# ---------------------------------------------------------------- strategies

cores = st.integers(0, 256_000).map(lambda m: m / 1000)
sizes = st.integers(0, 2**44)


@st.composite
def gpu_sets(draw: st.DrawFn, min_vram: int = 1) -> tuple[GPU, ...]:
    idx = draw(st.sets(st.integers(0, 7), max_size=4))
    return tuple(GPU(index=i, vendor=draw(st.sampled_from(["nvidia", "amd"])),
                     vram=draw(st.integers(min_vram, 96 * GiB))) for i in sorted(idx))


@st.composite
def resources(draw: st.DrawFn) -> Resources:
    return Resources.of(draw(cores), draw(sizes), draw(sizes), draw(gpu_sets()))


@st.composite
def described(draw: st.DrawFn) -> Resources:
    """Resources with optional clocks/speeds (for comparisons)."""
    r = draw(resources())
    clock = draw(st.none() | st.integers(1_000_000_000, 5_000_000_000))
    speed = draw(st.none() | st.floats(1, 10_000))
    return replace(r, cpu=replace(r.cpu, clock_speed_hz=clock, architecture="amd64"),
                   disk=replace(r.disk, read_speed_mbps=speed))


@st.composite
def within(draw: st.DrawFn, outer: Resources) -> Resources:
    """Some resources that ``outer`` holds (GPUs by index, VRAM <= theirs)."""
    c = draw(st.integers(0, round(outer.cpu.cores * 1000))) / 1000
    gpus = tuple(replace(g, vram=draw(st.integers(1, g.vram)))
                 for g in outer.gpus if draw(st.booleans()))
    return Resources.of(c, draw(st.integers(0, outer.ram.size)),
                        draw(st.integers(0, outer.disk.size)), gpus)


# ---------------------------------------------------------------- properties

@settings(deadline=None)
@given(resources(), resources())
def test_subtraction_undoes_addition(a: Resources, b: Resources) -> None:
    assert subtract(add(a, b), b) == a


@settings(deadline=None)
@given(described(), described())
def test_comparison_is_antisymmetric(a: Resources, b: Resources) -> None:
    ab, ba = compare(a, b), compare(b, a)
    assert ab.overall == ba.overall.inverse()
    assert (ab.overall is Comparison.BETTER) == (ba.overall is Comparison.WORSE)
    for dim, c in ab.dimensions.items():
        assert ba.dimensions[dim] == c.inverse()


@settings(deadline=None)
@given(described())
def test_comparison_with_itself_is_equal(a: Resources) -> None:
    assert compare(a, a).overall is Comparison.EQUAL


@settings(max_examples=150, deadline=None)
@given(st.data(), resources())
def test_request_that_fits_free_fits_onboarded(data: st.DataObject, onboarded: Resources) -> None:
    used = data.draw(within(onboarded))
    free = subtract(onboarded, used)
    request = data.draw(within(free))
    assert fits(request, free).ok  # anything drawn from free fits it (exact fits included)
    assert fits(request, onboarded).ok
    # and anything that fits free (here: some arbitrary request) fits onboarded
    other = data.draw(resources())
    if fits(other, free).ok:
        assert fits(other, onboarded).ok


@settings(max_examples=150, deadline=None)
@given(st.data(), resources(), resources())
def test_fits_is_monotone(data: st.DataObject, request: Resources, available: Resources) -> None:
    extra = data.draw(resources())
    bigger = add(available, extra)
    if fits(request, available).ok:
        assert fits(request, bigger).ok
    if not fits(request, bigger).ok:
        assert not fits(request, available).ok


@settings(deadline=None)
@given(resources())
def test_everything_fits_itself_exactly(r: Resources) -> None:
    assert fits(r, r).ok


@settings(deadline=None)
@given(resources(), resources())
def test_addition_is_commutative_in_amounts(a: Resources, b: Resources) -> None:
    assert add(a, b).amounts() == add(b, a).amounts()


# ---------------------------------------------------------------- examples

def test_exact_fit_counts_unlike_the_go_dms() -> None:
    r = Resources.of(cores=1, ram=GiB, disk=2 * GiB)
    assert fits(r, r) and compare(r, r).overall is Comparison.EQUAL


def test_fit_reasons_name_each_shortfall() -> None:
    res = fits(Resources.of(cores=4, ram=16 * GiB, disk=GiB), Resources.of(2, 8 * GiB, 10 * GiB))
    assert not res.ok
    assert res.reasons == ["needs 4 cores, 2 available", "needs 16 GiB RAM, 8 GiB available"]


def test_architecture_mismatch_is_incomparable_and_does_not_fit() -> None:
    x86 = Resources(cpu=CPU(cores=4, architecture="amd64"))
    arm = Resources(cpu=CPU(cores=8, architecture="arm64"))
    assert compare(x86, arm).overall is Comparison.INCOMPARABLE
    assert compare(x86, arm).dimensions["cpu"] is Comparison.INCOMPARABLE
    assert not fits(arm, x86).ok
    assert "needs a arm64 CPU" in fits(Resources(cpu=CPU(cores=1, architecture="arm64")), x86).reasons[0]


def test_disagreeing_dimensions_are_incomparable() -> None:
    a, b = Resources.of(8, 4 * GiB), Resources.of(4, 8 * GiB)
    c = compare(a, b)
    assert c.dimensions["cpu"] is Comparison.BETTER and c.dimensions["ram"] is Comparison.WORSE
    assert c.overall is Comparison.INCOMPARABLE


def test_gpu_shares_by_index() -> None:
    onboarded = Resources.of(4, 8 * GiB, 0, (GPU(0, "nvidia", "A100", 40 * GiB),
                                            GPU(1, "nvidia", "A100", 40 * GiB)))
    share = Resources.of(1, GiB, 0, (GPU(index=1, vram=10 * GiB),))
    free = subtract(onboarded, share)
    assert free.gpu(1) == GPU(1, "nvidia", "A100", 30 * GiB)
    assert free.gpu(0) == onboarded.gpu(0)
    whole = Resources.of(0, 0, 0, (GPU(index=0, vram=40 * GiB),))
    assert subtract(free, whole).gpu(0) is None  # the whole GPU is gone from free
    with pytest.raises(ResourceUnderflow):
        subtract(free, Resources.of(0, 0, 0, (GPU(index=1, vram=31 * GiB),)))
    with pytest.raises(ResourceUnderflow):
        subtract(free, Resources.of(0, 0, 0, (GPU(index=5, vram=1),)))
    with pytest.raises(ResourceUnderflow):
        subtract(free, Resources.of(cores=5))


def test_gpu_matching_uses_distinct_gpus_and_constraints() -> None:
    have = (GPU(0, "nvidia", "Tesla T4", 16 * GiB), GPU(1, "amd", "MI210", 64 * GiB))
    # two GPUs of 16 GiB: only one can be nvidia, the other needs the amd
    got = assign_gpus((GPU(vram=16 * GiB), GPU(vendor="nvidia", vram=8 * GiB)), have)
    assert got is not None
    assert sorted(g.index for g in got if g.index is not None) == [0, 1]
    assert got[1].index == 0 and got[1].vram == 8 * GiB
    assert assign_gpus((GPU(vendor="nvidia", vram=20 * GiB),), have) is None
    assert assign_gpus((GPU(model="mi210", vram=GiB),), have) == (replace(have[1], vram=GiB),)
    assert not fits(Resources.of(gpus=(GPU(vram=GiB),) * 3), Resources.of(gpus=have)).ok


def test_unindexed_gpus_are_refused_by_arithmetic() -> None:
    with pytest.raises(ValueError):
        add(Resources(), Resources.of(gpus=(GPU(vram=1),)))


def test_disk_type_constraint() -> None:
    want = Resources(disk=Disk(size=1, type="ssd"))
    assert fits(want, Resources(disk=Disk(size=10, type="ssd"))).ok
    assert not fits(want, Resources(disk=Disk(size=10, type="hdd"))).ok


def _cap(country: str, multi: float, per_core: float | None = None) -> MachineCapability:
    return MachineCapability(resources=Resources.of(8, 32 * GiB, 100 * GiB),
                             executors=("docker",),
                             location=Location(continent="EU", country=country),
                             price=PricePreferences(per_core_hour=per_core),
                             scores=replace(MachineCapability().scores, cpu_multi_ops=multi))


def test_hard_constraints() -> None:
    req = Requirements(resources=Resources.of(2, GiB, GiB), executors=("docker", "wasm"),
                       locations=(Location(continent="eu"),),
                       exclude_locations=(Location(country="FR"),), max_price_per_hour=1.0)
    assert check(req, _cap("DE", 1e6)).ok
    assert check(req, _cap("FR", 1e6)).reasons == ["location is excluded"]
    assert not check(replace(req, executors=("firecracker",)), _cap("DE", 1e6)).ok
    assert not check(req, _cap("DE", 1e6, per_core=1.0)).ok  # 2 cores x 1.0 > 1.0
    assert score(req, _cap("FR", 1e6)) == -math.inf


def test_soft_preferences_order_eligible_machines() -> None:
    req = Requirements(resources=Resources.of(2, GiB, GiB))
    prefs = Preferences(locations=(Location(country="DE"),))
    de, fr = _cap("DE", 1e6), _cap("FR", 1e6)
    assert score(req, de, prefs) > score(req, fr, prefs)
    assert score(req, _cap("FR", 1e9)) > score(req, _cap("FR", 1e3))  # faster ranks higher
    assert score(req, _cap("FR", 1e6)) > score(req, _cap("FR", 1e6, per_core=5.0))  # cheaper


def test_round_trip_through_json_shapes() -> None:
    cap = _cap("DE", 1e6, per_core=0.1)
    cap = replace(cap, resources=replace(cap.resources, gpus=(GPU(0, "nvidia", "A100", GiB, "0000:07:00.0", "GPU-x"),)))
    assert MachineCapability.from_dict(cap.to_dict()) == cap
    assert Resources.from_dict({"cpu": {"cores": 1, "unknown": 3}}) == Resources.of(cores=1)
