"""Well-known filesystem locations of the repository."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT: Path = Path(__file__).resolve().parents[1]
REFERENCE_DIR: Path = Path(os.environ.get("SKILLATLAS_REFERENCE_DIR") or REPO_ROOT / "data" / "reference")
SAMPLE_INBOX: Path = REPO_ROOT / "data" / "sample_inbox"
MODELS_DIR: Path = REPO_ROOT / "models"
TOKENIZER_PATH: Path = MODELS_DIR / "all-MiniLM-L6-v2.tokenizer.json"

__all__ = ["MODELS_DIR", "REFERENCE_DIR", "REPO_ROOT", "SAMPLE_INBOX", "TOKENIZER_PATH"]


def data_dir() -> Path:
    """Where the embedded warehouse and artefacts live: SKILLATLAS_DATA_DIR, else `<repo>/.dagster`."""
    return Path(os.environ.get("SKILLATLAS_DATA_DIR") or REPO_ROOT / ".dagster").resolve()


def artifacts_dir() -> Path:
    """Taxonomy vectors, the search index and the LLM cache (shared by the Dagster layer and the CLI)."""
    return data_dir() / "artifacts"


def default_warehouse_url() -> str:
    """SKILLATLAS_WAREHOUSE_URL, else the embedded SQLite warehouse in the data dir."""
    return os.environ.get("SKILLATLAS_WAREHOUSE_URL") or f"sqlite:///{data_dir() / 'warehouse.sqlite'}"
