"""The corpus: every input under tests/data/spec/ translates (or loads) to its expected
ensemble, with exactly the expected warnings, and the result round-trips.

Inputs: ``k8s/*.yaml``, ``nomad/*.{hcl,json}``, ``compose/*.yaml``, ``ensemble/*.yaml``.
Expected: ``<name>.expected.yaml`` (canonical ensemble) and ``<name>.warnings.txt`` (one
warning per line; absent = none). Regenerate after a reviewed change with
``DMS_REGEN_CORPUS=1 .venv/bin/pytest tests/unit/spec/test_spec_corpus.py``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dms.spec import convert_file, dump_ensemble, load_ensemble, loads_ensemble, lower

pytestmark = pytest.mark.unit

DATA = Path(__file__).resolve().parents[2] / "data" / "spec"
SOURCES = {"k8s": "k8s", "nomad": "nomad", "compose": "compose"}


def _inputs() -> list[Path]:
    out = []
    for sub in ("k8s", "nomad", "compose", "ensemble"):
        for p in sorted((DATA / sub).iterdir()):
            if ".expected." in p.name or p.name.endswith(".warnings.txt"):
                continue
            out.append(p)
    return out


def _translate(path: Path) -> tuple[str, list[str]]:
    kind = path.parent.name
    if kind == "ensemble":
        return dump_ensemble(load_ensemble(path)), []
    # the format is guessed: the corpus also checks guess_format on every file
    result = convert_file(path)
    assert result.source_format == {"k8s": "kubernetes"}.get(kind, kind)
    return dump_ensemble(result.ensemble), [str(w) for w in result.warnings]


def test_corpus_is_large_enough() -> None:
    assert len(_inputs()) >= 30


@pytest.mark.parametrize("path", _inputs(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_corpus_entry(path: Path) -> None:
    stem = path.name.rsplit(".", 1)[0]
    expected = path.with_name(f"{stem}.expected.yaml")
    warnings_file = path.with_name(f"{stem}.warnings.txt")
    got, warnings = _translate(path)
    if os.environ.get("DMS_REGEN_CORPUS"):
        expected.write_text(got, encoding="utf-8")
        if warnings:
            warnings_file.write_text("\n".join(warnings) + "\n", encoding="utf-8")
        elif warnings_file.exists():
            warnings_file.unlink()
    assert got == expected.read_text(encoding="utf-8")
    want = warnings_file.read_text(encoding="utf-8").splitlines() if warnings_file.exists() \
        else []
    assert warnings == want
    # every warning names a field path in the source
    assert all(w.startswith("warning: ") and ": " in w[9:] for w in warnings)
    # round trip: expected YAML -> ensemble -> YAML is identity, and it lowers to a plan
    ens = loads_ensemble(got, str(expected))
    assert dump_ensemble(ens) == got
    plan = lower(ens)
    assert set(plan.allocations) == set(ens.allocations)
