"""local REST API."""
