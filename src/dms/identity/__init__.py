"""did:key."""
