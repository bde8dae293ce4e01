"""local test networks."""
