"""libp2p host."""
