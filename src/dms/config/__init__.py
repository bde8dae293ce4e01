"""One typed config tree: defaults < config file < ``DMS_*`` env < flags."""

from dms.config.loader import (
    CONFIG_FILE,
    default_home,
    describe,
    get_value,
    load,
    resolve_path,
    set_value,
)
from dms.config.schema import ApiSettings, Config, DaemonSettings, LogSettings, StoreSettings

__all__ = ["CONFIG_FILE", "ApiSettings", "Config", "DaemonSettings", "LogSettings",
           "StoreSettings", "default_home", "describe", "get_value", "load", "resolve_path",
           "set_value"]
