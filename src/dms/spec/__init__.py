"""ensemble job format."""
