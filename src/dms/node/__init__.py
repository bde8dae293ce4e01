"""node wiring."""
