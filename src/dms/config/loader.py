"""Layering: defaults < ``$DMS_HOME/config.json`` < ``DMS_*`` env < flags.

Env names map onto dotted paths by the schema: ``DMS_API_PORT`` -> ``api.port``,
``DMS_NETWORK_MAX_PEERS`` -> ``network.max_peers`` (``__`` may also separate levels).
Env variables that are not config keys (``DMS_HOME``, ``DMS_PASSPHRASE``, ...) are
ignored here. Unknown keys in the file or in flags are errors that name the key.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from dms.config.schema import Config
from dms.errors import ConfigError

CONFIG_FILE = "config.json"
NOT_CONFIG_ENV = {"DMS_HOME", "DMS_PASSPHRASE", "DMS_PASSPHRASE_FILE", "DMS_TESTNET_DIR"}


def default_home() -> Path:
    return Path(os.environ.get("DMS_HOME") or Path.home() / ".dms").expanduser()


def _model_fields(model: type[BaseModel]) -> dict[str, Any]:
    return dict(model.model_fields)


def _submodel(model: type[BaseModel], name: str) -> type[BaseModel] | None:
    f = model.model_fields.get(name)
    ann = f.annotation if f else None
    return ann if isinstance(ann, type) and issubclass(ann, BaseModel) else None


def resolve_path(path: str) -> tuple[str, ...]:
    """Check a dotted key path against the schema; error names the closest valid keys."""
    parts = tuple(p for p in path.split(".") if p)
    if not parts:
        raise ConfigError("empty config key", hint="keys look like 'api.port'")
    model: type[BaseModel] | None = Config
    for i, part in enumerate(parts):
        assert model is not None
        fields = _model_fields(model)
        if part not in fields:
            where = ".".join(parts[:i]) or "the top level"
            import difflib

            close = difflib.get_close_matches(part, list(fields), n=1)
            hint = f"did you mean '{'.'.join((*parts[:i], close[0]))}'?" if close else (
                f"valid keys under {where}: {', '.join(sorted(fields))}")
            raise ConfigError(f"unknown config key '{path}'", hint=hint)
        if i < len(parts) - 1:
            model = _submodel(model, part)
            if model is None:
                raise ConfigError(f"'{'.'.join(parts[: i + 1])}' is a value, not a section",
                                  hint=f"use '{'.'.join(parts[: i + 1])}'")
    return parts


def env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, raw in environ.items():
        if not name.startswith("DMS_") or name in NOT_CONFIG_ENV:
            continue
        path = _env_to_path(name[4:].lower())
        if path is not None:
            _set_in(out, path, _parse_scalar(raw))
    return out


def _env_to_path(rest: str) -> tuple[str, ...] | None:
    if "__" in rest:
        try:
            return resolve_path(rest.replace("__", "."))
        except ConfigError:
            return None
    # greedy match of field names along the schema
    def walk(model: type[BaseModel], s: str) -> tuple[str, ...] | None:
        for fname in sorted(model.model_fields, key=len, reverse=True):
            if s == fname:
                return (fname,)
            if s.startswith(fname + "_"):
                sub = _submodel(model, fname)
                if sub is not None:
                    tail = walk(sub, s[len(fname) + 1:])
                    if tail:
                        return (fname, *tail)
        return None

    return walk(Config, rest)


def _parse_scalar(raw: str) -> Any:
    """Env and flag values: JSON when it parses (numbers, bools, lists), else the string."""
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _set_in(tree: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node = tree
    for p in path[:-1]:
        node = node.setdefault(p, {})
    node[path[-1]] = value


def _deep_merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), dict):
            out[k] = _deep_merge(out[k], v)
        else:
            out[k] = v
    return out


def read_file(home: Path) -> dict[str, Any]:
    path = home / CONFIG_FILE
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}",
                          hint="fix the JSON by hand or remove the file to go back to defaults") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a JSON object")
    return data


def write_file(home: Path, data: dict[str, Any]) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    path = home / CONFIG_FILE
    tmp = path.with_suffix(".tmp")
    # 0600: the file may hold credentials (e.g. storage.s3.secret_access_key)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(json.dumps(data, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)
    return path


def validate(tree: Mapping[str, Any], source: str = "config") -> Config:
    try:
        return Config.model_validate(tree)
    except PydanticValidationError as exc:
        msgs = []
        for e in exc.errors():
            key = ".".join(str(p) for p in e["loc"])
            if e["type"] == "extra_forbidden":
                msgs.append(f"unknown key '{key}'")
            else:
                msgs.append(f"'{key}': {e['msg']} (got {e.get('input')!r})")
        raise ConfigError(f"invalid {source}: " + "; ".join(msgs),
                          hint="see `dms config show` for every key, its type and default") from exc


def load(home: Path | None = None, *, environ: Mapping[str, str] | None = None,
         flags: Mapping[str, Any] | None = None) -> Config:
    """Build the effective config. ``flags`` maps dotted paths to values."""
    home = home or default_home()
    file_tree = read_file(home)
    validate(file_tree, f"config file {home / CONFIG_FILE}")
    tree = _deep_merge({}, file_tree)
    tree = _deep_merge(tree, env_overrides(os.environ if environ is None else environ))
    flag_tree: dict[str, Any] = {}
    for key, value in (flags or {}).items():
        _set_in(flag_tree, resolve_path(key), value)
    tree = _deep_merge(tree, flag_tree)
    return validate(tree)


def get_value(cfg: Config, key: str) -> Any:
    node: Any = cfg
    for p in resolve_path(key):
        node = getattr(node, p)
    return node.model_dump(by_alias=True) if isinstance(node, BaseModel) else node


def set_value(home: Path, key: str, raw: str) -> Any:
    """Validate and persist ``key = raw`` in the config file; returns the stored value."""
    path = resolve_path(key)
    data = read_file(home)
    _set_in(data, path, _parse_scalar(raw))
    try:
        cfg = validate(data, f"value for '{key}'")
    except ConfigError:
        # a string like "8080" for a str field parsed as int: retry with the raw string
        _set_in(data, path, raw)
        cfg = validate(data, f"value for '{key}'")
    write_file(home, data)
    return get_value(cfg, key)


def describe() -> list[tuple[str, str, Any, str]]:
    """(key, type, default, description) for every leaf, for `dms config show --all`."""
    rows: list[tuple[str, str, Any, str]] = []

    def walk(model: type[BaseModel], prefix: str) -> None:
        inst = model()
        for name, f in model.model_fields.items():
            sub = _submodel(model, name)
            if sub is not None:
                walk(sub, f"{prefix}{name}.")
            else:
                ann = getattr(f.annotation, "__name__", None) or str(f.annotation)
                rows.append((prefix + name, ann.replace("typing.", ""), getattr(inst, name),
                             f.description or ""))

    walk(Config, "")
    return rows
