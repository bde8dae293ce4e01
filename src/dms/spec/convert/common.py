"""Shared parts of the converters: the result, warnings, k8s-style quantities, location."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from dms.errors import ValidationError
from dms.spec.errors import ConversionWarning, SpecValidationError
from dms.spec.loader import validate_data
from dms.spec.models import Ensemble
from dms.spec.yamlpos import Document

__all__ = ["ConversionResult", "Draft", "cpu_quantity", "location_from_region",
           "mem_quantity", "safe_name"]


@dataclass
class ConversionResult:
    ensemble: Ensemble
    warnings: list[ConversionWarning]
    source_format: str


@dataclass
class Draft:
    """An ensemble being assembled as plain data, plus the warnings found so far."""

    source: str
    allocations: dict[str, dict[str, Any]] = field(default_factory=dict)
    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    supervisors: list[dict[str, Any]] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    warnings: list[ConversionWarning] = field(default_factory=list)

    def warn(self, path: str, message: str, hint: str = "") -> None:
        self.warnings.append(ConversionWarning(path=path, message=message, hint=hint))

    def unused(self, path: str, obj: Any, handled: set[str], why: str = "",
               hints: dict[str, str] | None = None) -> None:
        """Warn once per key of ``obj`` that the converter did not read."""
        if not isinstance(obj, dict):
            return
        for key in obj:
            if key not in handled:
                self.warn(f"{path}.{key}" if path else str(key),
                          "not expressible in an ensemble; ignored",
                          (hints or {}).get(str(key), why))

    def unique(self, base: str, *, node: bool = False) -> str:
        """A free allocation name (a free node name with ``node=True``) from ``base``."""
        taken = self.nodes if node else self.allocations
        name = safe_name(base)
        n, out = 2, name
        while out in taken:
            out = f"{name}-{n}"
            n += 1
        return out

    def finish(self, file: str = "<converted>") -> ConversionResult:
        if not self.allocations:
            raise ValidationError(
                f"nothing to translate: no workload in this {self.source} file could become "
                "an allocation",
                hint="; ".join(str(w) for w in self.warnings[:3]) or
                "check that the file holds a job/deployment with containers or tasks",
                details={"warnings": [str(w) for w in self.warnings]})
        data: dict[str, Any] = {"version": "V1", "allocations": self.allocations,
                                "nodes": self.nodes}
        if self.supervisors:
            data["supervisor"] = (self.supervisors[0] if len(self.supervisors) == 1 else
                                  {"strategy": "OneForOne", "children": self.supervisors})
        if len(self.nodes) > 1:
            data["subnet"] = {"join": True}
        if self.metadata:
            data["metadata"] = self.metadata
        ensemble, errors = validate_data(Document(data=data, file=file))
        if ensemble is None:
            raise SpecValidationError(errors, file=f"{file} (translated from {self.source})")
        return ConversionResult(ensemble=ensemble, warnings=self.warnings,
                                source_format=self.source)


def safe_name(text: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", str(text)).strip("-_")
    return name or "unnamed"


_CPU_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m?)\s*$")


def cpu_quantity(value: Any) -> float:
    """Kubernetes/Compose CPU: ``500m`` -> 0.5, ``2`` -> 2.0, ``"0.25"`` -> 0.25."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    m = _CPU_RE.match(str(value))
    if not m:
        raise ValueError(f"cannot read CPU quantity {value!r}")
    n = float(m.group(1))
    return n / 1000 if m.group(2) else n


_MEM_UNITS = {"": 1, "k": 1000, "m": 1000**2, "g": 1000**3, "t": 1000**4, "p": 1000**5,
              "e": 1000**6, "ki": 1024, "mi": 1024**2, "gi": 1024**3, "ti": 1024**4,
              "pi": 1024**5, "ei": 1024**6}
_MEM_RE = re.compile(r"^\s*(\d+(?:\.\d+)?(?:e\d+)?)\s*([a-zA-Z]{0,2})\s*$")


def mem_quantity(value: Any) -> int:
    """Kubernetes memory: ``512Mi`` -> 536870912, ``1G`` -> 10**9, ``128974848`` bytes."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    m = _MEM_RE.match(str(value))
    if not m or m.group(2).lower() not in _MEM_UNITS:
        raise ValueError(f"cannot read memory quantity {value!r}")
    unit = m.group(2)
    mult = _MEM_UNITS[unit.lower()] if unit != "m" else 1  # k8s "m" is milli: treat as bytes
    return int(float(m.group(1)) * mult)


_CONTINENTS = {
    "europe": "Europe", "eu": "Europe", "asia": "Asia", "africa": "Africa",
    "north-america": "North America", "northamerica": "North America",
    "south-america": "South America", "southamerica": "South America",
    "oceania": "Oceania", "antarctica": "Antarctica",
}


def location_from_region(value: str) -> dict[str, str] | None:
    """A region name that is a continent or an ISO 3166 country code, as a Location.

    Cloud regions such as ``us-east-1`` say nothing dms can check, so they give ``None``.
    """
    v = str(value).strip()
    if v.lower() in _CONTINENTS:
        return {"continent": _CONTINENTS[v.lower()]}
    if re.fullmatch(r"[A-Za-z]{2}", v):
        return {"country": v.upper()}
    return None
