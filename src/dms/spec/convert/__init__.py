"""Translate Kubernetes, Nomad and Compose jobs into ensembles.

    text ──guess_format()──▶ "k8s" | "nomad" | "compose"
         ──convert()───────▶ ConversionResult(ensemble, warnings, source_format)

What an ensemble cannot express becomes a :class:`ConversionWarning` naming the field
path in the source; nothing is dropped silently. The result is validated like a file.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any, Literal

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from dms.errors import ValidationError
from dms.spec.convert.common import ConversionResult
from dms.spec.convert.compose import from_compose_data
from dms.spec.convert.k8s import from_k8s_documents
from dms.spec.convert.nomad import MHZ_PER_CORE, from_nomad_text

__all__ = ["FORMATS", "MHZ_PER_CORE", "ConversionResult", "convert", "convert_file",
           "guess_format"]

Format = Literal["k8s", "nomad", "compose"]
FORMATS: tuple[str, ...] = ("k8s", "nomad", "compose")
_ALIASES = {"kubernetes": "k8s", "k8s": "k8s", "nomad": "nomad", "compose": "compose",
            "docker-compose": "compose"}


def _yaml_docs(text: str) -> list[Any]:
    y = YAML(typ="safe", pure=True)
    return list(y.load_all(io.StringIO(text)))


def guess_format(text: str, filename: str = "") -> str:
    """Which source format ``text`` is in; raises ValidationError when it cannot tell."""
    name = filename.lower()
    if name.endswith((".hcl", ".nomad")):
        return "nomad"
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if isinstance(data, dict) and ({"Job", "job", "TaskGroups"} & set(data)):
            return "nomad"
    if stripped.startswith("job ") or "\njob " in text:
        return "nomad"
    try:
        docs = [d for d in _yaml_docs(text) if d is not None]
    except YAMLError:
        docs = []
    if docs and all(isinstance(d, dict) and "kind" in d and "apiVersion" in d for d in docs):
        return "k8s"
    if docs and isinstance(docs[0], dict) and "services" in docs[0]:
        return "compose"
    if "compose" in name:
        return "compose"
    raise ValidationError(
        f"{filename or 'input'}: cannot tell which format this is",
        hint="pass --from k8s, --from nomad or --from compose")


def convert(text: str, source: str | None = None, *, filename: str = "") -> ConversionResult:
    """Translate ``text`` (format ``source``, guessed when ``None``) into an ensemble."""
    fmt = _ALIASES.get((source or guess_format(text, filename)).lower())
    if fmt is None:
        raise ValidationError(f"unknown source format {source!r}",
                              hint="use one of: " + ", ".join(FORMATS))
    file = filename or f"<{fmt}>"
    try:
        return _convert(text, fmt, file)
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        # a source file of an unexpected shape (a list where a mapping belongs, a word
        # where a number belongs): say so instead of a traceback
        raise ValidationError(
            f"{file}: cannot translate this {fmt} file: unexpected value ({exc!r})",
            hint=f"check the file against the {fmt} schema (e.g. `kubectl apply --dry-run="
                 "client`, `nomad job validate`, `docker compose config`)") from exc


def _convert(text: str, fmt: str, file: str) -> ConversionResult:
    if fmt == "nomad":
        return from_nomad_text(text, file)
    try:
        docs = _yaml_docs(text)
    except YAMLError as exc:
        raise ValidationError(f"{file}: bad YAML: {exc}".splitlines()[0],
                              hint="fix the YAML syntax") from exc
    if fmt == "k8s":
        return from_k8s_documents(docs, file)
    if len(docs) != 1 or not isinstance(docs[0], dict):
        raise ValidationError(f"{file}: a Compose file is one YAML mapping",
                              hint="check that the file is a docker-compose.yaml")
    return from_compose_data(docs[0], file)


def convert_file(path: str | Path, source: str | None = None) -> ConversionResult:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(f"cannot read {p}: {exc}",
                              hint="check the path and that it is a text file") from exc
    return convert(text, source, filename=str(p))
