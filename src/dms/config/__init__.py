"""one typed config tree."""
