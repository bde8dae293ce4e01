"""logs and metrics."""
