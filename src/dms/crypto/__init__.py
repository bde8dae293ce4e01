"""Ed25519 keys and encrypted keystore."""
