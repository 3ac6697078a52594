"""Shared test helpers (generators of hostile and good input files)."""
