"""Converter behaviour beyond the corpus: format guessing, failures, specific mappings."""

from __future__ import annotations

import textwrap

import pytest

from dms.errors import ValidationError
from dms.spec import SpecValidationError, convert, guess_format
from dms.spec.convert.common import cpu_quantity, location_from_region, mem_quantity
from dms.spec.convert.nomad import parse_nomad

pytestmark = pytest.mark.unit


def _d(text: str) -> str:
    return textwrap.dedent(text).lstrip()


@pytest.mark.parametrize(("text", "name", "fmt"), [
    ("job \"x\" {}\n", "", "nomad"),
    ("{}", "job.nomad", "nomad"),
    ('{"Job": {"ID": "x"}}', "", "nomad"),
    ("apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n", "", "k8s"),
    ("services:\n  web: {image: nginx}\n", "", "compose"),
])
def test_guess_format(text: str, name: str, fmt: str) -> None:
    assert guess_format(text, name) == fmt


def test_guess_format_fails_with_a_hint() -> None:
    with pytest.raises(ValidationError) as info:
        guess_format("just: text\n")
    assert "--from" in info.value.hint


def test_quantities() -> None:
    assert cpu_quantity("500m") == 0.5
    assert cpu_quantity("2") == 2.0
    assert cpu_quantity(1.5) == 1.5
    assert mem_quantity("512Mi") == 512 * 2**20
    assert mem_quantity("1G") == 10**9
    assert mem_quantity("128974848") == 128974848
    with pytest.raises(ValueError):
        cpu_quantity("lots")
    assert location_from_region("europe") == {"continent": "Europe"}
    assert location_from_region("de") == {"country": "DE"}
    assert location_from_region("us-east-1") is None


def test_python_hcl2_output_is_normalised() -> None:
    job = parse_nomad(_d('''
        job "j" {
          constraint {
            attribute = "${attr.cpu.arch}"
            value     = "amd64"
          }
          group "g" {
            task "t" {
              driver = "docker"
              config { image = "busybox" }
            }
          }
        }
    '''))
    assert job["name"] == "j"
    assert job["constraint"] == [{"attribute": "${attr.cpu.arch}", "value": "amd64"}]
    task = job["group"][0]["task"][0]
    assert task["name"] == "t" and task["driver"] == "docker"
    assert task["config"] == [{"image": "busybox"}]


def test_nothing_to_translate_is_an_error() -> None:
    with pytest.raises(ValidationError) as info:
        convert("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {}\n", "k8s")
    assert "nothing to translate" in info.value.message
    assert "Service" in info.value.hint


def test_only_host_process_tasks_is_an_error_naming_the_driver() -> None:
    text = 'job "j" {\n group "g" {\n task "t" {\n driver = "exec"\n config {\n' \
           ' command = "/bin/true"\n }\n }\n }\n}\n'
    with pytest.raises(ValidationError) as info:
        convert(text, "nomad")
    assert "exec" in info.value.hint


def test_qemu_without_kernel_fails_validation_with_the_field() -> None:
    text = 'job "j" {\n group "g" {\n task "t" {\n driver = "qemu"\n config {\n' \
           ' image_path = "/img.qcow2"\n }\n }\n }\n}\n'
    with pytest.raises(SpecValidationError) as info:
        convert(text, "nomad")
    assert any(e.path == "allocations.t.execution.kernel_image" for e in info.value.errors)


def test_compose_depends_on_cycle() -> None:
    text = _d('''
        services:
          a: {image: x, depends_on: [b]}
          b: {image: y, depends_on: [a]}
    ''')
    with pytest.raises(ValidationError) as info:
        convert(text, "compose")
    assert "cycle" in info.value.message


def test_compose_command_string_and_env_forms() -> None:
    text = _d('''
        services:
          w:
            image: python:3.12
            command: python -c "print('hi there')"
            environment: [A=1, B=x=y, C]
    ''')
    ens = convert(text).ensemble
    ex = ens.allocations["w"].execution
    assert ex.cmd == ["python", "-c", "print('hi there')"]
    assert ex.environment == {"A": "1", "B": "x=y", "C": ""}


def test_k8s_bad_quantity_is_a_warning_not_a_crash() -> None:
    text = _d('''
        apiVersion: v1
        kind: Pod
        metadata: {name: p}
        spec:
          containers:
            - name: c
              image: busybox
              resources: {limits: {cpu: lots, example.com/fpga: 1}}
    ''')
    result = convert(text)
    paths = [w.path for w in result.warnings]
    assert "Pod/p.spec.containers[0].resources.limits.cpu" in paths
    assert "Pod/p.spec.containers[0].resources.limits.example.com/fpga" in paths
    assert result.ensemble.allocations["p-c"].resources.cpu is None


def test_nomad_api_form_without_wrapper_and_dynamic_port() -> None:
    text = ('{"ID": "j", "Type": "batch", "TaskGroups": [{"Name": "g", "Networks": '
            '[{"DynamicPorts": [{"Label": "http"}]}], "Tasks": [{"Name": "t", "Driver": '
            '"docker", "Config": {"image": "busybox"}}]}]}')
    result = convert(text)
    assert result.ensemble.allocations["t"].type == "task"
    assert any("dynamic port" in w.message for w in result.warnings)


def test_unknown_source_format() -> None:
    with pytest.raises(ValidationError):
        convert("x: 1\n", "swarm")


@pytest.mark.parametrize(("text", "fmt"), [
    ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  replicas: three\n"
     "  template: {spec: {containers: [{name: c, image: x}]}}\n", "k8s"),
    ("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [oops]}\n", "k8s"),
    ("services:\n  web: [not, a, mapping]\n", "compose"),
    ('job "j" {\n group "g" {\n count = "many"\n }\n}\n', "nomad"),
])
def test_malformed_sources_give_an_error_not_a_traceback(text: str, fmt: str) -> None:
    with pytest.raises(ValidationError) as info:
        convert(text, fmt)
    assert info.value.hint


def test_nomad_runtime_interpolation_is_kept_and_reported() -> None:
    text = _d('''
        job "j" {
          group "g" {
            task "t" {
              driver = "docker"
              config { image = "busybox" }
              env {
                ADDR = "${NOMAD_ADDR_http}"
                PLAIN = "x"
              }
            }
          }
        }
    ''')
    result = convert(text, "nomad")
    env = result.ensemble.allocations["t"].execution.environment
    assert env == {"ADDR": "${NOMAD_ADDR_http}", "PLAIN": "x"}
    assert [w.path for w in result.warnings] == ["job.j.group.g.task.t.env.ADDR"]


def test_compose_variable_substitution_is_reported() -> None:
    result = convert("services:\n  w:\n    image: app:${TAG:-latest}\n", "compose")
    assert result.ensemble.allocations["w"].execution.image == "app:${TAG:-latest}"
    assert [w.path for w in result.warnings] == ["services.w.image"]
