"""Local test networks: N dms nodes in network namespaces (or on loopback).

Public surface::

    Testnet, NodeInfo, NodeStatus   dms.testnet.net / dms.testnet.state
    testnet(n, **kw)                context manager for tests (dms.testnet.fixture)
    parse_duration_ms, parse_percent
"""

from dms.testnet.fixture import testnet
from dms.testnet.net import NodeStatus, Testnet, TestnetError
from dms.testnet.state import NodeInfo, TestnetState
from dms.testnet.units import parse_duration_ms, parse_percent

__all__ = ["NodeInfo", "NodeStatus", "Testnet", "TestnetError", "TestnetState",
           "parse_duration_ms", "parse_percent", "testnet"]
