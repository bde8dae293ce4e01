"""the dms command."""
