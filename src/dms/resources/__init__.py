"""Hardware discovery, benchmarking, the capability model and resource accounting.

See README.md beside this file. The public names are re-exported here; submodules:
``model`` (types), ``compare`` (pure algebra), ``units`` (sizes), ``discovery`` and
``gpus`` (what the machine has), ``benchmark`` (how fast it is), ``accounting``
(ResourceManager) and ``onboarding`` (the service the node calls).
"""

from dms.resources.accounting import Allocation, Commitment, ResourceManager, Snapshot
from dms.resources.benchmark import (
    BenchmarkConfig,
    BenchmarkResult,
    Progress,
    ensure_benchmark,
    load_benchmark,
    run_benchmark,
)
from dms.resources.compare import (
    Comparison,
    ComparisonResult,
    FitResult,
    Preferences,
    Requirements,
    ResourceUnderflow,
    add,
    assign_gpus,
    check,
    compare,
    fits,
    score,
    subtract,
    total,
)
from dms.resources.discovery import BlockDevice, Hardware, discover
from dms.resources.errors import (
    InsufficientResources,
    NotOnboarded,
    ResourcesInUse,
    UnknownGPU,
    UnknownReservation,
)
from dms.resources.gpu_bench import GPUBenchmark
from dms.resources.model import (
    CPU,
    GPU,
    RAM,
    BenchmarkScores,
    Disk,
    Location,
    MachineCapability,
    PricePreferences,
    Resources,
)
from dms.resources.onboarding import Onboarding, OnboardingStatus
from dms.resources.probe import Probe, replay
from dms.resources.units import format_size, parse_cores, parse_gpus, parse_size
from dms.resources.usage import GPUUsage, Usage, usage

__all__ = [
    "CPU", "GPU", "RAM", "Allocation", "BenchmarkConfig", "BenchmarkResult", "BenchmarkScores",
    "BlockDevice", "Commitment", "Comparison", "ComparisonResult", "Disk", "FitResult",
    "GPUBenchmark", "Hardware", "InsufficientResources", "Location", "MachineCapability",
    "NotOnboarded", "Onboarding", "OnboardingStatus", "Preferences", "PricePreferences",
    "Probe", "Progress", "Requirements", "ResourceManager", "ResourceUnderflow", "Resources",
    "ResourcesInUse", "Snapshot", "UnknownGPU", "UnknownReservation", "add", "assign_gpus",
    "check", "compare", "discover", "ensure_benchmark", "fits", "format_size",
    "load_benchmark", "parse_cores", "parse_gpus", "parse_size", "replay", "run_benchmark",
    "score", "subtract", "total", "GPUUsage", "Usage", "usage",
]
