"""actors and messages."""
