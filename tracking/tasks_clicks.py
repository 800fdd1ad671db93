"""Click ingestion and retention tasks."""
