"""Each validation error class: the message names the field, says the fix, and points at
the right line and column of the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from dms.errors import ValidationError
from dms.spec import SpecValidationError, load_ensemble, validate_file, validate_text

pytestmark = pytest.mark.unit

INVALID = Path(__file__).resolve().parents[2] / "data" / "spec" / "invalid"

# file, code, path, (line, column), words in the message, words in the hint
CASES = [
    ("unknown-field", "unknown_field", "allocations.web.execution.imgae", (6, 7),
     ["imgae"], ["did you mean 'image'"]),
    ("wrong-type", "wrong_type", "allocations.web.resources.cpu.cores", (7, 16),
     ["'many'"], ["a number"]),
    ("unknown-allocation", "unknown_allocation", "nodes.n1.allocations[1]", (11, 9),
     ["'wbe'", "node 'n1'"], ["did you mean 'web'"]),
    ("unplaced-allocation", "unplaced_allocation", "allocations.worker", (7, 3),
     ["'worker'", "not placed"], ["add 'worker'", "nodes"]),
    ("placed-twice", "placed_twice", "nodes.n2.allocations[0]", (11, 19),
     ["'web'", "'n1'", "'n2'"], ["remove 'web'", "redundancy"]),
    ("duplicate-public-port", "duplicate_port", "nodes.n1.ports[1].public", (16, 18),
     ["public port 8080", "'n1'"], ["another public port", "0"]),
    ("duplicate-private-port", "duplicate_port", "nodes.n1.ports[1].private", (15, 18),
     ["private port 80", "'web'"], ["remove the duplicate"]),
    ("docker-without-image", "missing_field", "allocations.web.execution.image", (5, 5),
     ["docker", "execution.image"], ["image: "]),
    ("firecracker-without-kernel", "missing_field", "allocations.vm.execution.kernel_image",
     (5, 5), ["firecracker", "kernel_image"], ["kernel_image: "]),
    ("bad-size", "bad_size", "allocations.web.resources.ram.size", (7, 15),
     ["'2 gigs'", "size"], ["512MiB"]),
    ("implausible-size", "implausible_size", "allocations.web.resources.ram.size", (7, 15),
     ["1024 bytes"], ["1024MiB"]),
    ("bad-duration", "bad_duration", "allocations.web.healthcheck.interval", (10, 17),
     ["'every 5 minutes'", "duration"], ["30s"]),
    ("supervisor-cycle", "supervisor_cycle", "supervisor.children[0]", (14, 7),
     ["contains itself"], ["replace the alias"]),
    ("supervisor-twice", "supervisor_cycle", "supervisor.children[0].allocations[0]", (15, 21),
     ["'web'", "twice"], ["one supervisor"]),
    ("supervisor-twice", "unknown_allocation", "supervisor.children[0].allocations[1]",
     (15, 26), ["'db'"], ["define it under `allocations`"]),
    ("edge-unknown-node", "unknown_node", "edge_constraints[0].t", (12, 8),
     ["'cor'"], ["nodes", "edge"]),
    ("yaml-syntax", "yaml_syntax", "", (8, 6), ["bad YAML", "line 7"], ["indentation"]),
    ("unknown-version", "unknown_version", "version", (1, 10), ["'V2'"], ["version: V1"]),
]


@pytest.mark.parametrize(("name", "code", "path", "pos", "msg", "hint"), CASES,
                         ids=[f"{c[0]}:{c[1]}" for c in CASES])
def test_error_class(name: str, code: str, path: str, pos: tuple[int, int], msg: list[str],
                     hint: list[str]) -> None:
    file = INVALID / f"{name}.yaml"
    ensemble, errors = validate_file(file)
    assert ensemble is None
    matching = [e for e in errors if e.code == code and e.path == path]
    assert matching, f"no {code} at {path}: {[str(e) for e in errors]}"
    err = matching[0]
    assert (err.line, err.column) == pos
    assert err.file == str(file)
    text = str(err)
    assert text.startswith(f"{file}:{pos[0]}:{pos[1]}: ")
    if path:
        assert path in text
    for word in msg:
        assert word in err.message
    for word in hint:
        assert word in err.hint
    assert err.expected


def test_all_errors_are_collected() -> None:
    _, errors = validate_file(INVALID / "many-errors.yaml")
    assert [(e.code, e.path) for e in errors] == [
        ("bad_size", "allocations.web.resources.ram.size"),
        ("unknown_field", "allocations.web.execution.imgae"),
        ("unplaced_allocation", "allocations.vm"),
        ("missing_field", "allocations.vm.execution.kernel_image"),
        ("unknown_allocation", "nodes.n1.allocations[1]"),
        ("duplicate_port", "nodes.n1.ports[1].public"),
        ("unknown_node", "edge_constraints[0].t"),
    ]
    # sorted by position in the file
    assert [e.line for e in errors] == sorted(e.line for e in errors)


def test_load_ensemble_raises_validation_error_with_every_error() -> None:
    with pytest.raises(ValidationError) as info:
        load_ensemble(INVALID / "many-errors.yaml")
    exc = info.value
    assert isinstance(exc, SpecValidationError)
    assert len(exc.errors) == 7
    assert exc.code == "invalid"
    assert len(exc.to_dict()["details"]["errors"]) == 7
    assert "7 error(s)" in exc.message


@pytest.mark.parametrize("version", ["V1", "v1", "1", 1, "1.0"])
def test_version_spellings(version: object) -> None:
    text = f"version: {version}\nallocations: {{}}\nnodes: {{}}\n"
    ensemble, errors = validate_text(text)
    assert errors == [] and ensemble is not None and ensemble.version == "V1"


def test_missing_version_says_how_to_fix() -> None:
    _, errors = validate_text("allocations: {}\nnodes: {}\n")
    assert errors[0].code == "missing_field" and "version: V1" in errors[0].hint


@pytest.mark.parametrize(("snippet", "code", "path", "words"), [
    ("    execution: {image: x, kernel_image: /k}\n", "field_not_applicable",
     "allocations.a.execution.kernel_image", ["not used by the docker"]),
    ("    execution: {type: wasm, image: x}\n", "executor_mismatch",
     "allocations.a.execution.type", ["'wasm'", "'docker'"]),
    ("    execution: {image: x}\n    keys: [deployer]\n", "unknown_reference",
     "allocations.a.keys[0]", ["'deployer'", "`keys`"]),
    ("    execution: {image: x}\n    healthcheck: {type: command}\n", "missing_field",
     "allocations.a.healthcheck.exec", ["exec"]),
    ("    execution: {image: x}\n    tyep: task\n", "unknown_field", "allocations.a.tyep",
     ["'tyep'"]),
    ("    execution: {image: x}\n    type: job\n", "wrong_value", "allocations.a.type",
     ["'job'"]),
])
def test_more_rules(snippet: str, code: str, path: str, words: list[str]) -> None:
    text = ("version: V1\nallocations:\n  a:\n    executor: docker\n" + snippet +
            "nodes:\n  n: {allocations: [a]}\n")
    _, errors = validate_text(text, "x.yaml")
    found = [e for e in errors if e.code == code and e.path == path]
    assert found, [str(e) for e in errors]
    assert found[0].line >= 4 and found[0].hint
    for w in words:
        assert w in found[0].message


def test_bad_name_and_self_edge() -> None:
    text = ("version: V1\nallocations:\n  'bad name':\n    executor: noop\n"
            "nodes:\n  n: {allocations: ['bad name']}\nedge_constraints: [{s: n, t: n}]\n")
    _, errors = validate_text(text)
    codes = {e.code for e in errors}
    assert {"bad_name", "self_edge"} <= codes


def test_unreadable_file(tmp_path: Path) -> None:
    _, errors = validate_file(tmp_path / "nope.yaml")
    assert errors[0].code == "unreadable"


def test_go_dms_spellings_keep_positions() -> None:
    text = ("version: ensembleV1\n"
            "allocations:\n"
            "  a:\n"
            "    executor: docker\n"
            "    resources: big\n"
            "    execution: {image: x}\n"
            "nodes:\n"
            "  n: {allocations: [a]}\n"
            "edge_constraints:\n"
            "  - edges: [n, m]\n")
    _, errors = validate_text(text, "go.yaml")
    by_code = {e.code: e for e in errors}
    assert by_code["unknown_reference"].path == "allocations.a.resources"
    assert (by_code["unknown_reference"].line, by_code["unknown_reference"].column) == (5, 16)
    assert "resources template 'big'" in by_code["unknown_reference"].message
    assert by_code["unknown_node"].path == "edge_constraints[0].t"
    assert (by_code["unknown_node"].line, by_code["unknown_node"].column) == (10, 16)
