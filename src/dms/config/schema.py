"""The config tree: every field, its default and what it means, in one place.

Sections owned by other packages (network, executors, ...) are their own pydantic
models, imported here so the whole tree validates at once.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from dms.network.settings import NetworkSettings
from dms.storage.settings import StorageSettings


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ApiSettings(Section):
    host: str = Field(default="127.0.0.1", description="Address the local REST API binds to. "
                      "Whatever it binds to, the API answers loopback clients only (others get 403).")
    port: int = Field(default=9999, ge=0, le=65535, description="TCP port of the local REST API (0 = any free port).")


class LogSettings(Section):
    level: Literal["debug", "info", "warning", "error"] = Field(default="info", description="Log level.")
    json_format: bool = Field(default=False, description="Write logs as JSON lines.")


class StoreSettings(Section):
    path: str = Field(default="dms.db", description="SQLite database file, relative to DMS_HOME "
                      "unless absolute. Empty string = in-memory (state lost at exit).")


class DaemonSettings(Section):
    shutdown_grace_s: float = Field(default=5.0, ge=0, description="Seconds given to services to stop "
                                    "cleanly on SIGINT/SIGTERM before they are cancelled.")
    work_dir: str = Field(default="work", description="Directory for workloads' files, relative to DMS_HOME unless absolute.")


class ExecutorSettings(Section):
    enabled: list[str] = Field(default_factory=lambda: ["docker", "microvm", "wasm"],
                               description="Executors to wire, in order. Only those that really "
                               "work on this machine (is_installed) are advertised to peers.")
    docker: dict[str, Any] = Field(default_factory=dict, description="Docker executor settings "
                                   "(e.g. base_url; default from DOCKER_HOST or the local socket).")
    microvm: dict[str, Any] = Field(default_factory=dict, description="MicroVM executor settings "
                                    "(state_dir defaults to <work_dir>/microvm).")
    wasm: dict[str, Any] = Field(default_factory=dict, description="WebAssembly executor settings.")


class LocationSettings(Section):
    continent: str | None = Field(default=None, description="Where this machine is, for location "
                                  "constraints in ensembles (e.g. 'EU').")
    country: str | None = Field(default=None, description="ISO country code, e.g. 'DE'.")
    city: str | None = Field(default=None, description="City name.")
    asn: int | None = Field(default=None, description="Autonomous system number of the uplink.")
    isp: str | None = Field(default=None, description="Internet service provider.")


class DeploymentSettings(Section):
    bid_window_s: float = Field(default=1.0, gt=0, description="Longest wait for bids; collection stops "
                                "earlier once every connected peer has answered.")
    commit_expiry_s: float = Field(default=15.0, gt=0, description="How long a provider holds a "
                                   "commitment that no allocate follows.")
    call_timeout_s: float = Field(default=10.0, gt=0, description="Timeout of one protocol call.")
    deadline_s: float = Field(default=60.0, gt=0, description="Default deadline of a deployment.")
    retry_pause_s: float = Field(default=0.5, ge=0, description="Pause between placement attempts.")
    heartbeat_s: float = Field(default=2.0, gt=0, description="How often the orchestrator checks the "
                               "allocations of running deployments.")
    max_restarts: int = Field(default=3, ge=0, description="How often a provider restarts a "
                              "service allocation that fails (exponential back-off from 0.5 s).")
    max_misses: int = Field(default=3, ge=1, description="Unanswered checks after which a provider's "
                            "allocations count as lost.")
    replace_lost: bool = Field(default=True, description="Place the live allocations of a "
                               "provider that stopped answering on another one (not for nodes "
                               "pinned to a peer); false: they fail as lost.")
    local_bids: bool = Field(default=True, description="An onboarded node also bids on the "
                             "deployments it orchestrates itself (a lone node can run what it "
                             "deploys); false: only other nodes are asked, unless pinned here.")


class OnboardingSettings(Section):
    benchmark_budget_s: float = Field(default=15.0, gt=0, le=600, description="Time budget of the "
                                      "machine benchmark run at onboarding (`dms benchmark`).")
    benchmark_max_age_s: float = Field(default=7 * 86400.0, gt=0, description="A stored benchmark "
                                       "younger than this is reused at onboarding.")


class Config(Section):
    """The whole config. Keys are addressed by dotted paths, e.g. ``api.port``."""

    api: ApiSettings = Field(default_factory=ApiSettings)
    log: LogSettings = Field(default_factory=LogSettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    daemon: DaemonSettings = Field(default_factory=DaemonSettings)
    network: NetworkSettings = Field(default_factory=NetworkSettings)
    executor: ExecutorSettings = Field(default_factory=ExecutorSettings)
    location: LocationSettings = Field(default_factory=LocationSettings)
    deployment: DeploymentSettings = Field(default_factory=DeploymentSettings)
    onboarding: OnboardingSettings = Field(default_factory=OnboardingSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
