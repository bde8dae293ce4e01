"""allocation actor."""
