"""storage contract."""
