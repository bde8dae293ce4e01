from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dms.orchestrator.supervise import also_restart
from dms.spec.models import Supervisor

pytestmark = pytest.mark.unit

TREE = Supervisor.model_validate({
    "strategy": "RestForOne", "allocations": ["db"],
    "children": [{"strategy": "AllForOne", "allocations": ["api", "worker"]},
                 {"strategy": "OneForOne", "allocations": ["metrics"]}]})


def test_strategies_of_the_nearest_supervisor() -> None:
    assert also_restart(TREE, "db") == ["api", "worker", "metrics"]      # RestForOne
    assert also_restart(TREE, "api") == ["worker"]                       # AllForOne
    assert also_restart(TREE, "worker") == ["api"]
    assert also_restart(TREE, "metrics") == []                           # OneForOne
    assert also_restart(TREE, "unknown") == []
    assert also_restart(None, "db") == []


def test_rest_for_one_keeps_order() -> None:
    sup = Supervisor.model_validate({"strategy": "RestForOne", "allocations": ["a", "b", "c"]})
    assert also_restart(sup, "a") == ["b", "c"]
    assert also_restart(sup, "b") == ["c"]
    assert also_restart(sup, "c") == []


@given(st.lists(st.sampled_from("abcdefgh"), min_size=1, max_size=8, unique=True),
       st.sampled_from(["OneForOne", "AllForOne", "RestForOne"]), st.data())
def test_never_names_the_failed_one_or_strangers(names, strategy, data) -> None:
    sup = Supervisor.model_validate({"strategy": strategy, "allocations": names})
    failed = data.draw(st.sampled_from(names))
    out = also_restart(sup, failed)
    assert failed not in out and set(out) <= set(names)
    if strategy == "AllForOne":
        assert set(out) == set(names) - {failed}
