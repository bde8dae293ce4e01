"""One registry of executors by name, wired explicitly by the node.

Nothing registers itself at import time (Bacalhau's rule): the node calls
:func:`default_executors` with its settings and registers what it gets back::

    registry = ExecutorRegistry(default_executors(settings.executors))
    offered = await registry.probe()          # {"docker": {...capabilities}, ...}

Each executor package ``dms.executor.<name>`` exposes ``build(section) -> Executor``,
where ``section`` is that executor's settings (a pydantic model, a dict, or ``None``
for the defaults). :func:`default_executors` imports only the packages it is asked for.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pydantic
import trio

from dms.errors import ConfigError, ExecutorError
from dms.executor.contract import Executor

log = logging.getLogger(__name__)

DEFAULT_ENABLED: tuple[str, ...] = ("docker", "microvm", "wasm")
KNOWN: tuple[str, ...] = ("docker", "microvm", "wasm", "noop")


class ExecutorRegistry:
    """Executors by name. ``available()`` lists only those that really work here."""

    def __init__(self, executors: Iterable[Executor] = ()) -> None:
        self._by_name: dict[str, Executor] = {}
        for executor in executors:
            self.register(executor)

    def register(self, executor: Executor, *, replace: bool = False) -> None:
        name = getattr(executor, "name", None)
        if not isinstance(name, str) or not name:
            raise ConfigError(f"{executor!r} has no name",
                              hint="an executor needs a non-empty `name` attribute")
        if name in self._by_name and not replace:
            raise ConfigError(f"an executor named {name!r} is already registered",
                              hint="register each executor once, or pass replace=True")
        self._by_name[name] = executor

    def get(self, name: str) -> Executor:
        try:
            return self._by_name[name]
        except KeyError:
            known = ", ".join(sorted(self._by_name)) or "none"
            raise ExecutorError(
                f"no executor named {name!r} on this node",
                hint=f"executors here: {known}; enable it in the node's executor settings",
                code="executor_unknown") from None

    def names(self) -> list[str]:
        return sorted(self._by_name)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __iter__(self) -> Iterator[Executor]:
        return iter(list(self._by_name.values()))

    def __len__(self) -> int:
        return len(self._by_name)

    def available(self) -> dict[str, dict[str, Any]]:
        """Name -> capabilities of every executor whose ``is_installed()`` is true.

        Blocking (an executor may ping its daemon): from async code use :meth:`probe`.
        An executor whose probe raises counts as not installed (logged).
        """
        out: dict[str, dict[str, Any]] = {}
        for name, executor in sorted(self._by_name.items()):
            try:
                if not executor.is_installed():
                    continue
                out[name] = dict(executor.capabilities())
            except Exception as exc:  # a broken probe must not hide the others
                log.warning("executor %s: probe failed: %s", name, exc)
        return out

    async def probe(self) -> dict[str, dict[str, Any]]:
        """:meth:`available` in a worker thread, for the event loop."""
        return await trio.to_thread.run_sync(self.available)


def _section(settings: Any, name: str) -> Any:
    if settings is None:
        return None
    if isinstance(settings, dict):
        return settings.get(name)
    return getattr(settings, name, None)


def default_executors(settings: Any = None) -> list[Executor]:
    """Build the executors the node runs, in order, from its executor settings.

    ``settings`` may be ``None`` (defaults: docker, microvm, wasm), a dict, or an object
    with an ``enabled`` list and one attribute per executor name holding that
    executor's settings section.
    """
    enabled = _section(settings, "enabled")
    names = list(DEFAULT_ENABLED if enabled is None else enabled)
    out: list[Executor] = []
    for name in names:
        if name not in KNOWN:
            raise ConfigError(f"unknown executor {name!r} in the enabled list",
                              hint=f"choose among {', '.join(KNOWN)}")
        try:
            module = importlib.import_module(f"dms.executor.{name}")
            build = module.build
        except (ImportError, AttributeError) as exc:
            raise ConfigError(f"executor {name!r} is not available in this build: {exc}",
                              hint="remove it from the enabled executors") from exc
        out.append(build(_section(settings, name)))
    return out


M = TypeVar("M", bound=pydantic.BaseModel)


def parse_settings(model: type[M], section: Any, name: str,
                   defaults: dict[str, Any] | None = None) -> M:
    """An executor's settings from its config section: the model itself, a dict of its
    fields, an object with those attributes, or None (``defaults`` fill what is unset).
    Bad sections become a ConfigError that lists the fields the section takes."""
    if isinstance(section, model):
        return section
    try:
        if section is None:
            data: dict[str, Any] = {}
        elif isinstance(section, dict):
            data = dict(section)
        else:
            data = model.model_validate(section, from_attributes=True).model_dump(exclude_unset=True)
        for k, v in (defaults or {}).items():
            data.setdefault(k, v)
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        raise ConfigError(f"bad {name} executor settings: {exc}",
                          hint=f"the {name} section takes: {', '.join(model.model_fields)}") from exc


def default_state_dir(name: str) -> Path:
    """``$DMS_HOME/work/<name>``: where an executor keeps its state when not told."""
    home = Path(os.environ.get("DMS_HOME") or Path.home() / ".dms").expanduser()
    return home / "work" / name
