"""Turn pydantic's errors into :class:`SpecError` s with positions, expectations and hints."""

from __future__ import annotations

import difflib
import types
import typing
from enum import Enum
from typing import Any

import pydantic
from pydantic import BaseModel

from dms.spec.errors import SpecError
from dms.spec.models import Ensemble
from dms.spec.yamlpos import Document, Path

__all__ = ["build", "fields_of", "model_at", "suggest"]

_HINTS = {
    "size": ("bad_size", "write a number with a unit, e.g. `512MiB`, `1GiB` or `2GB`"),
    "duration": ("bad_duration", "write a number with a unit, e.g. `30s`, `5m` or `1h30m`"),
    "frequency": ("wrong_type", "write a number with a unit, e.g. `2.4GHz`"),
    "bandwidth": ("wrong_type", "write a number with a unit, e.g. `100Mbps`"),
    "name": ("bad_name", "rename it using letters, digits, '-' and '_' only"),
}
_TYPE_WORDS = {
    "int": "a whole number", "float": "a number", "str": "a string", "bool": "true or false",
    "list": "a list", "dict": "a mapping (key: value)", "model": "a mapping (key: value)",
    "greater_than": "a larger number", "less_than_equal": "a smaller number",
    "greater_than_equal": "a larger number",
}


def suggest(word: str, options: typing.Iterable[str]) -> str | None:
    m = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return m[0] if m else None


def _unwrap(tp: Any) -> Any:
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            tp = args[0] if len(args) == 1 else tp
            if len(args) != 1:
                return tp
        else:
            return tp


def model_at(path: Path, root: type[BaseModel] = Ensemble) -> Any:
    """The model class (or type) found at ``path`` below ``root``; ``None`` when unknown."""
    tp: Any = root
    for part in path:
        tp = _unwrap(tp)
        origin = typing.get_origin(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            field = _field(tp, str(part))
            if field is None:
                return None
            tp = field.annotation
        elif origin in (list, tuple):
            tp = typing.get_args(tp)[0]
        elif origin is dict:
            tp = typing.get_args(tp)[1]
        else:
            return None
    return _unwrap(tp)


def _field(model: type[BaseModel], name: str) -> Any:
    for fname, f in model.model_fields.items():
        if name in (fname, f.alias):
            return f
    return None


def fields_of(model: Any) -> list[str]:
    if isinstance(model, type) and issubclass(model, BaseModel):
        return [f.alias or n for n, f in model.model_fields.items()]
    return []


def build(doc: Document, data: Any) -> tuple[Ensemble | None, list[SpecError]]:
    try:
        return Ensemble.model_validate(data), []
    except pydantic.ValidationError as exc:
        return None, [_convert(doc, e) for e in exc.errors(include_url=False)]


def _convert(doc: Document, e: Any) -> SpecError:
    loc: list[str | int] = list(e["loc"])
    is_key = "[key]" in loc
    loc = [p for p in loc if p != "[key]"]
    # pydantic names the member of a union/Annotated in loc; drop type tags it adds
    loc = [p for p in loc if not (isinstance(p, str) and p.startswith(("function-", "lax-")))]
    path: Path = tuple(loc)
    kind: str = e["type"]
    ctx = e.get("ctx") or {}
    got = e.get("input")
    if kind == "extra_forbidden":
        parent = model_at(path[:-1])
        options = fields_of(parent)
        name = str(path[-1])
        best = suggest(name, options)
        return doc.error("unknown_field", path, f"unknown field '{name}'",
                         expected="one of: " + ", ".join(options),
                         hint=f"did you mean '{best}'?" if best else
                         f"remove '{name}' (or check its indentation)", key=True)
    if kind == "missing":
        name = str(path[-1])
        return doc.error("missing_field", path, f"missing required field '{name}'",
                         expected=f"'{name}' under {'.'.join(map(str, path[:-1])) or 'the top level'}",
                         hint=f"add `{name}: ...`")
    if kind in _HINTS:
        code, hint = _HINTS[kind]
        return doc.error(code, path, str(ctx.get("msg", e["msg"])),
                         expected=str(ctx.get("expected", "")), hint=hint, key=is_key)
    if kind in ("literal_error", "enum"):
        options = _options(path, ctx)
        best = suggest(str(got), options) if isinstance(got, str) else None
        return doc.error("wrong_value", path, f"{got!r} is not allowed here",
                         expected="one of: " + ", ".join(options),
                         hint=f"did you mean '{best}'?" if best else
                         f"use one of: {', '.join(options)}")
    word = next((w for k, w in _TYPE_WORDS.items() if kind.startswith(k)), None)
    expected = word or e["msg"]
    if kind.startswith(("greater", "less")):
        expected = e["msg"].replace("Input should be ", "")
    return doc.error("wrong_type", path, f"{_short(got)} is not valid here ({e['msg']})",
                     expected=expected, hint=f"change the value to {expected}")


def _options(path: Path, ctx: dict[str, Any]) -> list[str]:
    tp = model_at(path)
    if isinstance(tp, type) and issubclass(tp, Enum):
        return [m.value for m in tp]
    if typing.get_origin(tp) is typing.Literal:
        return [str(a) for a in typing.get_args(tp)]
    raw = str(ctx.get("expected", ""))
    return [x.strip(" '") for x in raw.replace(" or ", ",").split(",") if x.strip(" '")]


def _short(v: Any) -> str:
    text = repr(v)
    return text if len(text) < 60 else text[:57] + "..."
