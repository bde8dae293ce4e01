"""`dms validate` and `dms translate` as click commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from dms.cli.spec_cmds import translate, validate
from dms.spec import load_ensemble

pytestmark = pytest.mark.unit

DATA = Path(__file__).resolve().parents[2] / "data" / "spec"


def test_validate_ok() -> None:
    r = CliRunner().invoke(validate, [str(DATA / "ensemble" / "multi-node-edges.yaml")])
    assert r.exit_code == 0, r.output
    assert "ok:" in r.output and "3 allocation(s) on 2 node(s)" in r.output


def test_validate_prints_every_error_and_exits_1() -> None:
    file = DATA / "invalid" / "many-errors.yaml"
    r = CliRunner().invoke(validate, [str(file)])
    assert r.exit_code == 1
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith(str(file))]
    assert len(lines) == 7
    assert lines[0].startswith(f"{file}:6:19: allocations.web.resources.ram.size:")
    assert r.stdout.count("hint: ") == 7
    assert "7 error(s)" in r.stderr


def test_validate_json() -> None:
    r = CliRunner().invoke(validate, ["--json", str(DATA / "invalid" / "bad-size.yaml")])
    assert r.exit_code == 1
    body = json.loads(r.stdout)
    assert body["valid"] is False
    assert body["errors"][0]["path"] == "allocations.web.resources.ram.size"
    assert body["errors"][0]["line"] == 7


def test_translate_to_stdout_with_warnings_on_stderr() -> None:
    r = CliRunner().invoke(translate, [str(DATA / "compose" / "healthcheck.yaml")])
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("version: V1\n")
    assert "warning: services.api.healthcheck.retries" in r.stderr
    assert "warning" not in r.stdout


def test_translate_to_file_and_validate_it(tmp_path: Path) -> None:
    out = tmp_path / "out.yaml"
    r = CliRunner().invoke(translate, [str(DATA / "nomad" / "web-service.hcl"),
                                       "--from", "nomad", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "wrote" in r.stderr
    assert load_ensemble(out).nodes["frontend"].redundancy == 3
    assert CliRunner().invoke(validate, [str(out)]).exit_code == 0


def test_translate_failure_is_an_error_with_a_hint(tmp_path: Path) -> None:
    f = tmp_path / "x.yaml"
    f.write_text("hello: world\n")
    r = CliRunner().invoke(translate, [str(f)])
    assert r.exit_code == 1
    assert "error:" in r.stderr and "hint: pass --from" in r.stderr


def test_public_surface_is_pinned() -> None:
    import dms.spec

    assert sorted(dms.spec.__all__) == sorted([
        "Allocation", "AllocationPlan", "ConversionResult", "ConversionWarning", "Ensemble",
        "Execution", "Executor", "Node", "NodePlan", "Plan", "Port", "Resources",
        "ResourceTotals", "SUPPORTED_VERSIONS", "SpecError", "SpecValidationError",
        "Strategy", "Supervisor", "convert", "convert_file", "dump_ensemble",
        "ensemble_to_data", "format_duration", "format_size", "guess_format",
        "load_ensemble", "loads_ensemble", "lower", "parse_duration", "parse_size",
        "validate_file", "validate_text"])
    for name in dms.spec.__all__:
        assert hasattr(dms.spec, name)
