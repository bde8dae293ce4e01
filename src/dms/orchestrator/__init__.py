"""deployment orchestration."""
