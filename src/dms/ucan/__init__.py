"""capability tokens."""
