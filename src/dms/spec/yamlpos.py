"""Read YAML with ruamel's round-trip loader and keep where every key and value sits.

    text ──ruamel──▶ CommentedMap/Seq ──plain()──▶ dict/list/scalars  (what pydantic sees)
                                    └──positions──▶ {path: (line, col)}  (1-based)

A recursive document (an alias inside the mapping it names) is reported in
``Document.cycles`` so validation can name it.
"""

from __future__ import annotations

import datetime as _dt
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from dms.spec.errors import SpecError

__all__ = ["Document", "Path", "SyntaxErrors", "load_documents", "path_str"]

Path = tuple[str | int, ...]


def path_str(path: Path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


@dataclass
class Document:
    data: Any
    file: str
    keys: dict[Path, tuple[int, int]] = field(default_factory=dict)
    values: dict[Path, tuple[int, int]] = field(default_factory=dict)
    cycles: list[Path] = field(default_factory=list)

    def locate(self, path: Path, *, key: bool = False) -> tuple[int, int]:
        """Line/column of ``path`` (its key when ``key``), else of its nearest ancestor."""
        p = tuple(path)
        while True:
            table = (self.keys, self.values) if key else (self.values, self.keys)
            for t in table:
                if p in t:
                    return t[p]
            if not p:
                return (1, 1)
            p = p[:-1]
            key = True

    def error(self, code: str, path: Path, message: str, *, expected: str = "",
              hint: str = "", key: bool = False) -> SpecError:
        line, col = self.locate(path, key=key)
        return SpecError(code=code, path=path_str(path), message=message, expected=expected,
                         hint=hint, file=self.file, line=line, column=col)


def _yaml() -> YAML:
    y = YAML(typ="rt")
    y.allow_duplicate_keys = False
    return y


def load_documents(text: str, file: str = "<string>") -> list[Document]:
    """All documents in ``text``; raises ``SpecError`` (as a list) on bad syntax."""
    try:
        raw = list(_yaml().load_all(io.StringIO(text)))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        problem = exc.problem or str(exc)
        if exc.context:
            cm = exc.context_mark
            started = f" (started at line {cm.line + 1})" if cm and mark and \
                cm.line != mark.line else ""
            problem = f"{exc.context}{started}: {problem}"
        raise SyntaxErrors([SpecError(
            code="yaml_syntax", path="", message=f"bad YAML: {problem}",
            expected="valid YAML (mappings 'key: value', lists '- item')",
            hint="check indentation and quoting around this line "
                 "(quote values that contain ': ' or start with '*', '&', '{' or '[')",
            file=file, line=line, column=col)]) from None
    except YAMLError as exc:
        raise SyntaxErrors([SpecError(code="yaml_syntax", path="", message=f"bad YAML: {exc}",
                                      hint="fix the YAML syntax", file=file)]) from None
    cycles = _find_cycles(text) if "&" in text else {}
    docs = []
    for i, item in enumerate(raw):
        doc = Document(data=None, file=file)
        doc.data = _plain(item, (), doc)
        for path, where in cycles.get(i, []):
            doc.cycles.append(path)
            if where:
                doc.values[path] = doc.keys[path] = where
        docs.append(doc)
    return docs


def _find_cycles(text: str) -> dict[int, list[tuple[Path, tuple[int, int] | None]]]:
    """Paths where an alias refers to a mapping or list that contains it (per document).

    ruamel's round-trip constructor silently turns such an alias into ``null``; the
    composed node graph still shows it, so walk that.
    """
    from ruamel.yaml.nodes import MappingNode, SequenceNode

    found: dict[int, list[tuple[Path, tuple[int, int] | None]]] = {}
    lines = text.splitlines()

    def alias_at(anchor: Any, parent: Any) -> tuple[int, int] | None:
        # the alias token itself carries no mark once composed: find `*anchor` in the
        # parent's span of the text
        if not anchor:
            return None
        pattern = re.compile(rf"\*{re.escape(str(anchor))}(?![\w-])")
        for ln in range(parent.start_mark.line, min(parent.end_mark.line + 1, len(lines))):
            if m := pattern.search(lines[ln]):
                return (ln + 1, m.start() + 1)
        return None

    def walk(node: Any, path: Path, stack: set[int], out: list[Any], parent: Any) -> None:
        if not isinstance(node, MappingNode | SequenceNode):
            return
        if id(node) in stack:
            out.append((path, alias_at(getattr(node, "anchor", None), parent)))
            return
        stack = stack | {id(node)}
        if isinstance(node, MappingNode):
            for k, v in node.value:
                walk(v, (*path, getattr(k, "value", str(k))), stack, out, node)
        else:
            for i, v in enumerate(node.value):
                walk(v, (*path, i), stack, out, node)

    for i, root in enumerate(_yaml().compose_all(io.StringIO(text))):
        out: list[Any] = []
        walk(root, (), set(), out, root)
        if out:
            found[i] = out
    return found


class SyntaxErrors(Exception):
    def __init__(self, errors: list[SpecError]) -> None:
        super().__init__(errors[0].message)
        self.errors = errors


def _pos(lc: Any, method: str, arg: Any) -> tuple[int, int] | None:
    try:
        line, col = getattr(lc, method)(arg)
    except (KeyError, IndexError, TypeError, AttributeError):
        return None
    return (line + 1, col + 1)


def _plain(node: Any, path: Path, doc: Document) -> Any:
    if isinstance(node, CommentedMap):
        out: dict[Any, Any] = {}
        for k, v in node.items():
            key = _scalar(k)
            sub = (*path, key if isinstance(key, str | int) else str(key))
            if (kp := _pos(node.lc, "key", k)) is not None:
                doc.keys[sub] = kp
            if (vp := _pos(node.lc, "value", k)) is not None:
                doc.values[sub] = vp
            out[key] = _plain(v, sub, doc)
        return out
    if isinstance(node, CommentedSeq):
        items = []
        for i, v in enumerate(node):
            if (ip := _pos(node.lc, "item", i)) is not None:
                doc.values[(*path, i)] = ip
                doc.keys[(*path, i)] = ip
            items.append(_plain(v, (*path, i), doc))
        return items
    return _scalar(node)


def _scalar(v: Any) -> Any:
    if v is None or isinstance(v, bool):
        return v
    if isinstance(v, int):
        return bool(v) if type(v).__name__ == "ScalarBoolean" else int(v)
    if isinstance(v, float):
        return float(v)
    if isinstance(v, str):
        return str(v)
    if isinstance(v, _dt.datetime | _dt.date):
        return v.isoformat()
    return v


def iter_items(data: Any) -> Iterator[tuple[str, Any]]:
    """(key, value) pairs of a mapping, nothing for anything else."""
    if isinstance(data, dict):
        yield from data.items()
