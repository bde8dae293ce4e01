"""The libp2p network: host, discovery, gossipsub, DHT, kept message streams.

The settings import cheaply (the config tree needs them, and so does every CLI
command); the service, which imports py-libp2p (~0.5 s), loads on first use.
"""

from typing import TYPE_CHECKING, Any

from dms.network.settings import GossipSettings, NetworkSettings

if TYPE_CHECKING:
    from dms.network.service import Network, PeerInfo
    from dms.network.streams import MSG_PROTOCOL

__all__ = ["GossipSettings", "MSG_PROTOCOL", "Network", "NetworkSettings", "PeerInfo"]

_LAZY = {"Network": "dms.network.service", "PeerInfo": "dms.network.service",
         "MSG_PROTOCOL": "dms.network.streams"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'dms.network' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
