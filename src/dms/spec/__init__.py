"""The ensemble job format: models, validation, converters and the plan.

    YAML ──load/validate──▶ Ensemble ──lower()──▶ Plan  (what the orchestrator consumes)
    k8s / Nomad / Compose ──convert()──▶ Ensemble (+ warnings)
    Ensemble ──dump_ensemble()──▶ canonical YAML
"""

from __future__ import annotations

from dms.spec.convert import ConversionResult, convert, convert_file, guess_format
from dms.spec.dump import dump_ensemble, ensemble_to_data
from dms.spec.errors import ConversionWarning, SpecError, SpecValidationError
from dms.spec.loader import (
    SUPPORTED_VERSIONS,
    load_ensemble,
    loads_ensemble,
    validate_file,
    validate_text,
)
from dms.spec.models import (
    Allocation,
    Ensemble,
    Execution,
    Executor,
    Node,
    Port,
    Resources,
    Strategy,
    Supervisor,
)
from dms.spec.plan import AllocationPlan, NodePlan, Plan, ResourceTotals, lower
from dms.spec.units import format_duration, format_size, parse_duration, parse_size

__all__ = [
    "Allocation", "AllocationPlan", "ConversionResult", "ConversionWarning", "Ensemble",
    "Execution", "Executor", "Node", "NodePlan", "Plan", "Port", "Resources",
    "ResourceTotals", "SUPPORTED_VERSIONS", "SpecError", "SpecValidationError", "Strategy",
    "Supervisor", "convert", "convert_file", "dump_ensemble", "ensemble_to_data",
    "format_duration", "format_size", "guess_format", "load_ensemble", "loads_ensemble",
    "lower", "parse_duration", "parse_size", "validate_file", "validate_text",
]
