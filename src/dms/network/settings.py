"""Typed settings of the libp2p network service (one section of the config tree)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class GossipSettings(BaseModel):
    """gossipsub mesh parameters (the libp2p defaults, made visible)."""

    model_config = ConfigDict(extra="forbid")

    degree: int = Field(default=6, ge=1, description="Target number of mesh peers per topic (D).")
    degree_low: int = Field(default=4, ge=1, description="Below this many mesh peers, graft more (D_lo).")
    degree_high: int = Field(default=12, ge=1, description="Above this many mesh peers, prune (D_hi).")
    heartbeat_interval: int = Field(
        default=1, ge=1, description="Seconds between gossipsub heartbeats (mesh maintenance).")
    max_messages_per_topic_per_second: float = Field(
        default=50.0, gt=0,
        description="Per-peer, per-topic spam limit; messages above it are dropped silently. "
                    "gossipsub is for broadcast only: anything that must arrive goes point to point.")


class NetworkSettings(BaseModel):
    """Everything the :class:`dms.network.Network` service needs to start."""

    model_config = ConfigDict(extra="forbid")

    listen_addrs: list[str] = Field(
        default_factory=lambda: ["/ip4/0.0.0.0/tcp/9000"],
        description="Multiaddrs to listen on (TCP). Use /ip4/127.0.0.1/tcp/0 for a free "
                    "loopback port (tests, local testnets).")
    bootstrap: list[str] = Field(
        default_factory=list,
        description="Bootstrap peers as full multiaddrs ending in /p2p/<peer id>. Dialed at "
                    "start and redialed whenever the connection is lost.")
    bootstrap_redial_interval: float = Field(
        default=5.0, gt=0, description="Seconds between checks that every bootstrap peer is connected.")
    mdns: bool = Field(default=True, description="Announce and discover peers on the LAN with mDNS; "
                                         "discovered peers are dialed.")
    dht: bool = Field(default=True, description="Run a Kademlia DHT (server mode): peer routing and "
                                        "provider records.")
    dht_refresh_interval: float = Field(
        default=30.0, gt=0, description="Seconds between DHT routing-table seedings from connected "
                                "peers and refreshes.")
    max_peers: int = Field(
        default=100, ge=1, description="Most simultaneous peer connections (one connection per peer); "
                               "more inbound connections are refused.")
    dial_timeout: float = Field(default=10.0, gt=0, description="Seconds a dial may take before it fails.")
    psk_file: Path | None = Field(
        default=None, description="Private network: path to a swarm key file (go-ipfs format "
                          "'/key/swarm/psk/1.0.0/', '/base16/', 64 hex chars). Only peers "
                          "with the same key can connect. None: public network.")
    gossip: GossipSettings = Field(default_factory=lambda: GossipSettings(),
                                   description="gossipsub parameters.")
    max_frame_bytes: int = Field(
        default=4 * 1024 * 1024, ge=1024,
        description="Largest message frame accepted on a message stream; bigger frames "
                    "close the stream.")
