"""Well-known filesystem locations of the repository (configurable ones come from :mod:`skillatlas.settings`)."""

from __future__ import annotations

from pathlib import Path

from skillatlas.settings import REPO_ROOT, Settings, SettingsError, load_settings

SAMPLE_INBOX: Path = REPO_ROOT / "data" / "sample_inbox"
MODELS_DIR: Path = REPO_ROOT / "models"
TOKENIZER_PATH: Path = MODELS_DIR / "all-MiniLM-L6-v2.tokenizer.json"


def _reference_dir_at_import() -> Path:
    # SKILLATLAS_REFERENCE_DIR is any path, so it cannot be invalid itself; an invalid *other* variable must not
    # break `import skillatlas` (the CLI's --help, the tests): it is reported by the first load_settings() call.
    try:
        return load_settings().resolved_reference_dir
    except SettingsError:
        return Settings.model_construct().resolved_reference_dir


REFERENCE_DIR: Path = _reference_dir_at_import()

__all__ = ["MODELS_DIR", "REFERENCE_DIR", "REPO_ROOT", "SAMPLE_INBOX", "TOKENIZER_PATH"]


def data_dir() -> Path:
    """Where the embedded warehouse and artefacts live: SKILLATLAS_DATA_DIR, else `<repo>/.dagster`."""
    return load_settings().resolved_data_dir


def artifacts_dir() -> Path:
    """Taxonomy vectors, the search index and the LLM cache (shared by the Dagster layer and the CLI)."""
    return load_settings().artifacts_dir


def default_warehouse_url() -> str:
    """SKILLATLAS_WAREHOUSE_URL, else the embedded SQLite warehouse in the data dir."""
    settings = load_settings()
    return settings.warehouse_url or settings.embedded_warehouse_url
