"""The libp2p network: host, discovery, gossipsub, DHT, kept message streams."""

from dms.network.service import Network, PeerInfo
from dms.network.settings import GossipSettings, NetworkSettings
from dms.network.streams import MSG_PROTOCOL

__all__ = ["GossipSettings", "MSG_PROTOCOL", "Network", "NetworkSettings", "PeerInfo"]
