from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from resources_fakes import CountingRunner, GiB, small_hardware

from dms.errors import ValidationError
from dms.resources.benchmark import RECORD, load_benchmark
from dms.resources.errors import InsufficientResources, ResourcesInUse, UnknownGPU
from dms.resources.model import GPU, Resources
from dms.resources.onboarding import Onboarding
from dms.store import MemoryStore

pytestmark = pytest.mark.unit

T4 = GPU(0, "nvidia", "Tesla T4", 16 * GiB, "0000:07:00.0", "GPU-a")
A10 = GPU(1, "nvidia", "A10", 24 * GiB, "0000:08:00.0", "GPU-b")


def make(store: MemoryStore, tmp_path: Path, gpus: tuple[GPU, ...] = (),
         **kw: Any) -> tuple[Onboarding, CountingRunner]:
    runner = CountingRunner()
    hw = {"gpus": gpus}

    def discover(work_dir: str, _probe: object) -> Any:
        return small_hardware(work_dir, gpus=hw["gpus"])

    ob = Onboarding(store, tmp_path, discover_fn=discover, benchmark_runner=runner, **kw)
    ob.hw = hw  # type: ignore[attr-defined]  # lets a test change the "machine"
    return ob, runner


def state(store: MemoryStore) -> Any:
    """Everything onboarding may write, to show an error changed nothing."""
    return ([(n, store.collection(n).query()) for n in store.collections()],
            [store.record(r).history() for r in ("resources.onboarded", RECORD)])


def test_onboard_benchmark_commit_allocate_release(store: MemoryStore, tmp_path: Path) -> None:
    ob, runner = make(store, tmp_path)
    lines: list[str] = []
    st = ob.onboard(1, "1GiB", "2GiB", progress=lambda p: lines.append(p.line()))
    assert st.onboarded and st.benchmark_reused is False and runner.calls == 1
    assert st.benchmark is not None and st.benchmark == load_benchmark(store)
    onboarded = st.resources.onboarded
    assert onboarded is not None
    assert onboarded.amounts() == Resources.of(1, GiB, 2 * GiB)
    assert onboarded.cpu.model == "Test CPU" and onboarded.disk.read_speed_mbps == 600.0
    assert st.resources.free == onboarded
    ob.resources.commit("alloc-1", Resources.of(0.5, 512 * 2**20, GiB), expiry_s=60)
    ob.resources.allocate("alloc-1")
    free = ob.status().resources.free
    assert free.amounts() == Resources.of(0.5, 512 * 2**20, GiB)
    ob.resources.release("alloc-1")
    assert ob.status().resources.free == onboarded
    assert st.hardware is not None and st.hardware["cpu"]["model"] == "Test CPU"
    assert ob.status().to_dict()["resources"]["free"]["cpu"]["cores"] == 1


@pytest.mark.parametrize(("args", "message"), [
    ((64, "1GiB", "1GiB"), "asked for 64 cores but this machine has 2 (onboard at most 2)"),
    ((1, "9GiB", "1GiB"), "asked for 9 GiB of RAM but this machine has 8 GiB (onboard at most 8 GiB)"),
    ((1, "1GiB", "51GiB"), "asked for 51 GiB of disk but the filesystem holding"),
])
def test_over_onboarding_says_how_much_there_is(store: MemoryStore, tmp_path: Path,
                                                args: tuple[Any, ...], message: str) -> None:
    ob, runner = make(store, tmp_path)
    ob.onboard(1, "1GiB", "1GiB")
    before = state(store)
    with pytest.raises(InsufficientResources) as info:
        ob.onboard(*args)
    assert message in info.value.message
    assert info.value.hint
    assert state(store) == before and runner.calls == 1


@pytest.mark.parametrize("args", [("two", "1GiB", "1GiB"), (1, "1 GiBs", "1GiB"),
                                  (1, "1GiB", "lots"), (0, "1GiB", "1GiB"), (1, "0", "1GiB")])
def test_malformed_sizes_change_nothing(store: MemoryStore, tmp_path: Path,
                                        args: tuple[Any, ...]) -> None:
    ob, runner = make(store, tmp_path)
    before = state(store)
    with pytest.raises(ValidationError) as info:
        ob.onboard(*args)
    assert info.value.hint
    assert state(store) == before and runner.calls == 0
    assert not ob.status().onboarded


def test_unknown_gpu_index_lists_the_existing_ones(store: MemoryStore, tmp_path: Path) -> None:
    ob, _ = make(store, tmp_path, gpus=(T4, A10))
    before = state(store)
    with pytest.raises(UnknownGPU) as info:
        ob.onboard(1, "1GiB", "1GiB", gpus=[(0, "4GiB"), (7, "1GiB")])
    assert info.value.message == ("GPU index 7 does not exist; this machine has GPUs "
                                  "0 (Tesla T4, 16 GiB), 1 (A10, 24 GiB)")
    assert state(store) == before


def test_unknown_gpu_on_a_machine_without_gpus(store: MemoryStore, tmp_path: Path) -> None:
    ob, _ = make(store, tmp_path)
    with pytest.raises(UnknownGPU) as info:
        ob.onboard(1, "1GiB", "1GiB", gpus=[(0, None)])
    assert "this machine has no GPUs" in info.value.message
    assert "--no-gpu" in info.value.hint


def test_gpu_choices(store: MemoryStore, tmp_path: Path) -> None:
    ob, _ = make(store, tmp_path, gpus=(T4, A10))
    st = ob.onboard(1, "1GiB", "1GiB")  # default: every GPU, whole
    assert st.resources.onboarded and st.resources.onboarded.gpus == (T4, A10)
    st = ob.onboard(1, "1GiB", "1GiB", gpus=[(1, "8GiB")])
    assert st.resources.onboarded and st.resources.onboarded.gpus == (replace(A10, vram=8 * GiB),)
    st = ob.onboard(1, "1GiB", "1GiB", no_gpu=True)
    assert st.resources.onboarded and st.resources.onboarded.gpus == ()
    for bad, err in (({"gpus": [(0, "17GiB")]}, InsufficientResources),
                     ({"gpus": [(0, None), (0, None)]}, ValidationError),
                     ({"gpus": [(0, None)], "no_gpu": True}, ValidationError)):
        with pytest.raises(err):
            ob.onboard(1, "1GiB", "1GiB", **bad)


def test_benchmark_reused_while_fresh_and_rerun_on_change(store: MemoryStore, tmp_path: Path) -> None:
    ob, runner = make(store, tmp_path)
    ob.onboard(1, "1GiB", "1GiB")
    st = ob.onboard(2, "1GiB", "1GiB")
    assert st.benchmark_reused is True and runner.calls == 1
    ob.onboard(2, "1GiB", "1GiB", rebenchmark=True)
    assert runner.calls == 2
    ob.hw["gpus"] = (T4,)  # type: ignore[attr-defined]  # hardware changed: new fingerprint
    st = ob.onboard(2, "1GiB", "1GiB")
    assert st.benchmark_reused is False and runner.calls == 3
    ob.benchmark()  # `dms benchmark` always re-runs
    assert runner.calls == 4
    assert len(store.record(RECORD).history()) == 4


def test_stale_benchmark_is_rerun(store: MemoryStore, tmp_path: Path) -> None:
    ob, runner = make(store, tmp_path, benchmark_max_age_s=-1)
    ob.onboard(1, "1GiB", "1GiB")
    ob.onboard(1, "1GiB", "1GiB")
    assert runner.calls == 2


def test_offboard(store: MemoryStore, tmp_path: Path) -> None:
    ob, _ = make(store, tmp_path)
    ob.onboard(2, "2GiB", "2GiB")
    ob.resources.allocate("job", Resources.of(1, GiB))
    with pytest.raises(ResourcesInUse):
        ob.offboard()
    assert ob.status().onboarded
    assert ob.offboard(force=True) == ["job"]
    st = ob.status()
    assert not st.onboarded and st.resources.free == Resources() and st.onboarded_at is None
    assert st.benchmark is not None  # the benchmark stays, for the next onboarding


def test_cannot_reonboard_below_what_is_in_use(store: MemoryStore, tmp_path: Path) -> None:
    ob, runner = make(store, tmp_path)
    ob.onboard(2, "2GiB", "2GiB")
    ob.resources.allocate("job", Resources.of(2, GiB))
    with pytest.raises(InsufficientResources):
        ob.onboard(1, "2GiB", "2GiB", rebenchmark=True)
    assert runner.calls == 1  # refused before benchmarking


def test_capability_offers_free_resources_and_scores(store: MemoryStore, tmp_path: Path) -> None:
    ob, _ = make(store, tmp_path)
    ob.onboard(2, "2GiB", "2GiB")
    ob.resources.allocate("job", Resources.of(1, GiB))
    cap = ob.capability(executors=["docker"])
    assert cap.resources.cpu.cores == 1 and cap.executors == ("docker",)
    assert cap.scores.cpu_multi_ops == 2000.0
    assert ob.capability(free=False).resources.cpu.cores == 2
