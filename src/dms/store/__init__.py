"""local document database."""
