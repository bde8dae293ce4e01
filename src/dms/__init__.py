"""dms: a Device Management Service for a decentralized compute network."""

from dms._version import __version__

__all__ = ["__version__"]
