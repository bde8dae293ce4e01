"""hardware and capability model."""
