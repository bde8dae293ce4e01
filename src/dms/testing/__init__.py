"""Test support: real components for tests (dockerd, S3, images) and the report."""
