"""Ingest: the upload inbox, formats, parsing, document versions and per-batch processing."""
