"""Read ensembles: pick the reader for the file's ``version``, collect every error.

    text ─▶ YAML (positions) ─▶ version? ─▶ V1 reader: models + cross-field rules
                                              └─▶ (Ensemble | None, [SpecError...])
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path as FsPath
from typing import Any

from dms.spec import compat, semantic, structure
from dms.spec.errors import SpecError, SpecValidationError
from dms.spec.models import Ensemble
from dms.spec.yamlpos import Document, SyntaxErrors, load_documents, path_str

__all__ = ["SUPPORTED_VERSIONS", "load_ensemble", "loads_ensemble", "normalize_version",
           "validate_data", "validate_file", "validate_text"]

Reader = Callable[[Document, dict[str, Any]], tuple[Ensemble | None, list[SpecError]]]


def _read_v1(doc: Document, data: dict[str, Any]) -> tuple[Ensemble | None, list[SpecError]]:
    data, compat_errors = compat.normalize(doc, {**data, "version": "V1"})
    ensemble, errors = structure.build(doc, data)
    errors = compat_errors + errors
    # a recursive alias reads as null: the cycle error says it better than a type error
    cycles = {path_str(p) for p in doc.cycles}
    errors = [e for e in errors if e.path not in cycles]
    errors += semantic.check(doc, data)
    return (ensemble if not errors else None), _dedupe(errors)


#: version tag -> reader; add a new reader (and model module) per format version
_READERS: dict[str, Reader] = {"V1": _read_v1}
SUPPORTED_VERSIONS: tuple[str, ...] = tuple(_READERS)


def normalize_version(value: Any) -> str | None:
    """``V1``, ``v1``, ``1`` and ``1.0`` all name V1; ``None`` when unsupported."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float) and float(value).is_integer():
        value = f"V{int(value)}"
    if isinstance(value, str):
        tag = value.strip().upper().removeprefix("ENSEMBLE")  # Go DMS: "ensembleV1"
        tag = tag if tag.startswith("V") else f"V{tag}"
        tag = tag[:-2] if tag.endswith(".0") else tag
        return tag if tag in _READERS else None
    return None


def validate_data(doc: Document) -> tuple[Ensemble | None, list[SpecError]]:
    data = doc.data
    if not isinstance(data, dict):
        return None, [doc.error("wrong_type", (), "the document is not a mapping",
                                expected="a mapping with `version`, `allocations` and `nodes`",
                                hint="start the file with `version: V1`")]
    if "version" not in data:
        return None, [doc.error("missing_field", ("version",), "missing `version`",
                                expected="one of: " + ", ".join(SUPPORTED_VERSIONS),
                                hint="add `version: V1` at the top of the file")]
    version = normalize_version(data["version"])
    if version is None:
        return None, [doc.error("unknown_version", ("version",),
                                f"unsupported ensemble version {data['version']!r}",
                                expected="one of: " + ", ".join(SUPPORTED_VERSIONS),
                                hint="set `version: V1` (the format this dms reads)")]
    return _READERS[version](doc, data)


def validate_text(text: str, file: str = "<string>") -> tuple[Ensemble | None, list[SpecError]]:
    try:
        docs = load_documents(text, file)
    except SyntaxErrors as exc:
        return None, exc.errors
    if len(docs) != 1:
        return None, [SpecError(code="wrong_type", path="",
                                message=f"expected one YAML document, found {len(docs)}",
                                expected="exactly one ensemble per file",
                                hint="split the file, or remove the extra `---` separators",
                                file=file, line=1, column=1)]
    return validate_data(docs[0])


def validate_file(path: str | FsPath) -> tuple[Ensemble | None, list[SpecError]]:
    """Validate an ensemble file; every problem is returned, none raised."""
    p = FsPath(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [SpecError(code="unreadable", path="", message=f"cannot read the file: {exc}",
                                hint="check the path and that it is a UTF-8 text file",
                                file=str(p))]
    return validate_text(text, str(p))


def loads_ensemble(text: str, file: str = "<string>") -> Ensemble:
    ensemble, errors = validate_text(text, file)
    if ensemble is None:
        raise SpecValidationError(errors, file=file)
    return ensemble


def load_ensemble(path: str | FsPath) -> Ensemble:
    """The ensemble in ``path``; raises :class:`dms.errors.ValidationError` listing all errors."""
    ensemble, errors = validate_file(path)
    if ensemble is None:
        raise SpecValidationError(errors, file=str(path))
    return ensemble


def _dedupe(errors: list[SpecError]) -> list[SpecError]:
    # a misspelt required field shows up twice (unknown 'imgae', missing 'image'): keep
    # the error whose hint is the fix ("did you mean 'image'?")
    suggested = {e.path.rsplit(".", 1)[0] + "." + e.hint.split("'")[1]
                 for e in errors if e.code == "unknown_field" and e.hint.startswith("did you")}
    seen: set[tuple[str, str, str]] = set()
    out = []
    for e in errors:
        if e.code == "missing_field" and e.path in suggested:
            continue
        key = (e.code, e.path, e.message)
        if key not in seen:
            seen.add(key)
            out.append(e)
    return sorted(out, key=lambda e: (e.line, e.column))
