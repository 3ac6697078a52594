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
