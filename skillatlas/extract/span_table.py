"""Precomputed MiniLM vectors of frequent candidate-span strings (issue 12, item 6: a faster semantic stage).

The semantic stage embeds every sentence *and* its candidate spans (1-2 token windows, ~12 per sentence);
the spans cost about two thirds of the model time although they are few distinct strings: 93 % of the
one-token span occurrences in SkillSpan dev are strings that already occur in SkillSpan train. This table
holds the embeddings of such strings, computed once by the same model, so :class:`OfflineExtractor` only runs
the model for the others. A span's embedding depends only on its token ids, hence on the tokenizer's
normalised string (lower-cased, accents stripped): :func:`span_key`. Vectors are stored as float16 (cosine
error ~1e-4), with the model version; a table made by another model version is ignored.

Built by ``scripts/build_span_table.py`` from SkillSpan **train** candidate spans and the taxonomy's words
(never dev). Nothing here decides which spans are candidates: the extractor's output does not depend on the
table beyond float16 rounding.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

__all__ = ["SPAN_TABLE_RECIPE", "SpanVectorTable", "default_span_table_path", "save_span_table"]

SPAN_TABLE_RECIPE = "span-table/v1"


def default_span_table_path() -> Path:
    from skillatlas.paths import REFERENCE_DIR

    return Path(REFERENCE_DIR) / "span_vectors.npz"


class SpanVectorTable:
    """key (normaliser output) -> float32 unit vector; ``lookup`` splits texts into found / missing."""

    def __init__(self, keys: Sequence[str], vectors: np.ndarray, model_version: str,
                 normalise: Callable[[str], str]) -> None:
        if len(keys) != len(vectors):
            raise ValueError(f"{len(keys)} keys but {len(vectors)} vectors")
        self.model_version = model_version
        self._normalise = normalise
        self._pos = {k: i for i, k in enumerate(keys)}
        self._vectors = np.asarray(vectors, dtype=np.float16)

    def __len__(self) -> int:
        return len(self._pos)

    def key(self, text: str) -> str:
        return self._normalise(text)

    def get(self, text: str) -> np.ndarray | None:
        """The stored vector of ``text`` (float32, L2-normalised) or ``None``."""
        i = self._pos.get(self._normalise(text))
        if i is None:
            return None
        v: np.ndarray = self._vectors[i].astype(np.float32)
        out: np.ndarray = v / max(float(np.linalg.norm(v)), 1e-12)
        return out

    @classmethod
    def load(cls, path: Path, model_version: str, normalise: Callable[[str], str]) -> SpanVectorTable | None:
        """The table at ``path``, or ``None`` when it is missing, unreadable, or made by another model/recipe."""
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as z:
                if str(z["model_version"]) != model_version or str(z["recipe"]) != SPAN_TABLE_RECIPE:
                    return None
                keys = [str(k) for k in z["keys"].tolist()]
                vectors = z["vectors"]
        except (OSError, KeyError, ValueError):
            return None
        return cls(keys, vectors, model_version, normalise)


def save_span_table(path: Path, keys: Iterable[str], vectors: np.ndarray, model_version: str) -> None:
    """Write the table atomically (keys, float16 vectors, model version, recipe)."""
    keys = list(keys)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz")
    os.close(fd)
    try:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, keys=np.array(keys, dtype="U"), vectors=np.asarray(vectors, dtype=np.float16),
                                model_version=np.array(model_version), recipe=np.array(SPAN_TABLE_RECIPE))
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
