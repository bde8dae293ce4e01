"""executor contract."""
