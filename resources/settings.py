"""Environment selection: which warehouse, inbox and extractor a deployment uses, from env vars.

SKILLATLAS_ENV=embedded (default): SQLite warehouse file under SKILLATLAS_DATA_DIR (default `.dagster/`
in the project), the shipped sample inbox, offline extraction.
SKILLATLAS_ENV=production: the warehouse URL must come from SKILLATLAS_WAREHOUSE_URL (read through
`EnvVar`, so its password never lands in run config or the UI).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from skillatlas import paths
from skillatlas.ingest.inbox import DEFAULT_QUIET_SECONDS
from skillatlas.paths import SAMPLE_INBOX

ENVIRONMENTS = ("embedded", "production")
EXTRACTOR_MODES = ("offline", "openai", "cascade")
DEFAULT_MAX_FILE_BYTES = 10_000_000


@dataclass(frozen=True)
class Settings:
    environment: str
    data_dir: Path
    inbox_dir: Path
    warehouse_url_env: str | None  # name of the env var holding the URL (production), or None
    embedded_warehouse_url: str
    max_file_bytes: int
    batch_size: int
    extractor: str
    semantic: bool = True  # MiniLM semantic matching besides phrase matching (SKILLATLAS_SEMANTIC=0: phrase only)
    quiet_seconds: float = DEFAULT_QUIET_SECONDS  # inbox files must be unchanged this long before registration


def _int_env(name: str, default: int, *, low: int, high: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not an integer") from None
    if not low <= value <= high:
        raise ValueError(f"{name}={value} is out of range [{low}, {high}]")
    return value


def load_settings() -> Settings:
    environment = os.environ.get("SKILLATLAS_ENV", "embedded").strip().lower()
    if environment not in ENVIRONMENTS:
        raise ValueError(f"SKILLATLAS_ENV={environment!r} is not one of {', '.join(ENVIRONMENTS)}")
    data_dir = paths.data_dir()
    inbox_dir = Path(os.environ.get("SKILLATLAS_INBOX") or SAMPLE_INBOX).resolve()
    extractor = os.environ.get("SKILLATLAS_EXTRACTOR", "offline").strip().lower()
    if extractor not in EXTRACTOR_MODES:
        raise ValueError(f"SKILLATLAS_EXTRACTOR={extractor!r} is not one of {', '.join(EXTRACTOR_MODES)}")
    warehouse_url_env = None
    if environment == "production" or os.environ.get("SKILLATLAS_WAREHOUSE_URL"):
        warehouse_url_env = "SKILLATLAS_WAREHOUSE_URL"
        if environment == "production" and not os.environ.get("SKILLATLAS_WAREHOUSE_URL"):
            raise ValueError(
                "SKILLATLAS_ENV=production needs SKILLATLAS_WAREHOUSE_URL, e.g. "
                "postgresql+psycopg://user:password@host:5432/skillatlas"
            )
    return Settings(
        environment=environment,
        data_dir=data_dir,
        inbox_dir=inbox_dir,
        warehouse_url_env=warehouse_url_env,
        embedded_warehouse_url=f"sqlite:///{data_dir / 'warehouse.sqlite'}",
        max_file_bytes=_int_env("SKILLATLAS_MAX_FILE_BYTES", DEFAULT_MAX_FILE_BYTES, low=1, high=2_000_000_000),
        batch_size=_int_env("SKILLATLAS_BATCH_SIZE", 100, low=1, high=100),
        extractor=extractor,
        semantic=_bool_env("SKILLATLAS_SEMANTIC", True),
        quiet_seconds=_float_env("SKILLATLAS_INBOX_QUIET_SECONDS", DEFAULT_QUIET_SECONDS, low=0.0, high=86_400.0),
    )


def _float_env(name: str, default: float, *, low: float, high: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a number") from None
    if not low <= value <= high:
        raise ValueError(f"{name}={value} is out of range [{low}, {high}]")
    return value


def _bool_env(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if raw == "":
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{name}={raw!r} is not a boolean (use 1/0, true/false)")


LLM_MODES = ("sync", "batch")


def llm_mode() -> str:
    """SKILLATLAS_LLM_MODE: sync (default) or batch (OpenAI Batch API for backfills and re-extraction)."""
    mode = os.environ.get("SKILLATLAS_LLM_MODE", "sync").strip().lower() or "sync"
    if mode not in LLM_MODES:
        raise ValueError(f"SKILLATLAS_LLM_MODE={mode!r} is not one of {', '.join(LLM_MODES)}")
    return mode


def review_zone() -> tuple[float, float] | None:
    """SKILLATLAS_LLM_REVIEW_ZONE=low,high: LLM confidences in [low, high) go to the review queue."""
    raw = os.environ.get("SKILLATLAS_LLM_REVIEW_ZONE", "").strip()
    if not raw:
        return None
    try:
        low, high = (float(x) for x in raw.split(","))
    except ValueError:
        raise ValueError(f"SKILLATLAS_LLM_REVIEW_ZONE={raw!r} must be two numbers: low,high") from None
    if not 0.0 <= low < high <= 1.0:
        raise ValueError(f"SKILLATLAS_LLM_REVIEW_ZONE={raw!r}: need 0 <= low < high <= 1")
    return low, high
