"""Content-hash cache of LLM answers in a small SQLite file (thread-safe)."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = ["CACHE_FILENAME", "LLMCache", "cache_key", "candidates_hash"]

CACHE_FILENAME = "llm_cache.sqlite"


def candidates_hash(candidates: Iterable[tuple[str, str]]) -> str:
    h = hashlib.sha256()
    for skill_id, label in candidates:
        h.update(skill_id.encode("utf-8"))
        h.update(b"\x1f")
        h.update(label.encode("utf-8"))
        h.update(b"\x1e")
    return h.hexdigest()


def cache_key(text: str, *, extractor_version: str, model: str, prompt_hash: str,
              candidates: Iterable[tuple[str, str]]) -> str:
    """sha256 over (text sha256, extractor version, model, prompt template hash, candidate-set hash)."""
    text_sha = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    parts = (text_sha, extractor_version, model, prompt_hash, candidates_hash(candidates))
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


class LLMCache:
    """``LLMCache(path)``: ``get(key) -> list[dict] | None`` and ``put(key, items)``.

    ``path`` may be a file (parent directories are created), a directory (``llm_cache.sqlite`` inside it) or
    ``":memory:"``. One connection is shared by all threads behind a lock; WAL mode lets several processes
    (e.g. Dagster's multiprocess executor) use the same file.
    """

    def __init__(self, path: str | Path) -> None:
        if str(path) != ":memory:":
            p = Path(path)
            if p.is_dir():
                p = p / CACHE_FILENAME
            p.parent.mkdir(parents=True, exist_ok=True)
            path = p
        self.path = path
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(str(path), check_same_thread=False, timeout=30.0, isolation_level=None)
        with self._lock:
            if str(path) != ":memory:":
                self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS llm_cache (key TEXT PRIMARY KEY, value TEXT NOT NULL, "
                "model TEXT, created_at REAL NOT NULL)"
            )

    def __repr__(self) -> str:
        return f"LLMCache({str(self.path)!r})"

    def get(self, key: str) -> list[dict[str, Any]] | None:
        with self._lock:
            row = self._conn.execute("SELECT value FROM llm_cache WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        try:
            value = json.loads(row[0])
        except ValueError:
            return None
        return value if isinstance(value, list) else None

    def put(self, key: str, items: list[dict[str, Any]], *, model: str | None = None) -> None:
        payload = json.dumps(items, ensure_ascii=False, separators=(",", ":"))
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO llm_cache (key, value, model, created_at) VALUES (?, ?, ?, ?)",
                (key, payload, model, time.time()),
            )

    def __len__(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM llm_cache").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> LLMCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
