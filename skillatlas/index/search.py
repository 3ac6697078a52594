"""Search over courses, job postings, occupations and skills: tantivy BM25 + vector cosine, fused with RRF.

On-disk layout (``index_dir`` is a *symlink* to the current build)::

    <parent>/<name>                 -> .<name>.builds/<build_id>   (swapped atomically with os.replace)
    <parent>/.<name>.builds/<build_id>/
        tantivy/                    full-text index (fields doc_key, kind, title, body, row)
        docs.parquet                row-aligned metadata (doc_key, kind, title, body head) for vector hits
        vectors.npy                 optional float32 (n, d), L2-normalised, row-aligned
        manifest.json               written last: counts, dims, build time (a build without it is ignored)

Readers resolve the symlink once in :meth:`SearchIndex.open` and keep reading that build, so a rebuild never
shows them a half-written index; the previous ``keep_builds`` builds are kept for readers still open.

User queries never reach tantivy's query language: they are reduced to word tokens (letters/digits) and
re-joined, so ``title:"``, ``a AND OR (``, ``*`` or ``field:[a TO b]`` are plain words or nothing (the
lenient parser is a second guard). Kind filtering is a term query on the raw ``kind`` field.

Hybrid ranking: reciprocal rank fusion ``sum 1 / (60 + rank)`` over the BM25 and the cosine top lists
(``candidates`` each). Text only: score = BM25; vector only: score = cosine.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import tantivy

__all__ = [
    "KINDS",
    "Hit",
    "IndexNotFoundError",
    "IndexStats",
    "SearchIndex",
    "build_index",
    "make_snippet",
    "query_tokens",
]

KINDS = ("course", "job", "occupation", "skill")
RRF_K = 60
MAX_LIMIT = 10_000  # hits per search; larger limits are refused (see SearchIndex.search)
_TOKEN_RE = re.compile(r"[^\W_]+", re.UNICODE)
_MAX_QUERY_TOKENS = 64
_SNIPPET_CHARS = 200
_META_BODY_CHARS = 2000
_GEMV_BLOCK = 1024


class IndexNotFoundError(FileNotFoundError):
    """No complete index at the given path."""


@dataclass(frozen=True)
class Hit:
    doc_key: str
    kind: str
    title: str
    score: float
    snippet: str
    # which scale `score` is on: "rrf" (fused ranks, <= 2/61), "bm25" (text only, unbounded) or "cosine"
    score_kind: str = "bm25"


@dataclass(frozen=True)
class IndexStats:
    index_dir: str
    build_id: str
    documents: int
    by_kind: dict[str, int] = field(default_factory=dict)
    vector_dim: int | None = None
    duplicates_dropped: int = 0
    seconds: float = 0.0
    docs_per_second: float = 0.0

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def query_tokens(query: str) -> list[str]:
    """Word tokens of a user query (casefolded, at most 64): the only thing passed to tantivy."""
    return [t.casefold() for t in _TOKEN_RE.findall(query or "")][:_MAX_QUERY_TOKENS]


def _schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("doc_key", stored=True, tokenizer_name="raw")
    sb.add_text_field("kind", stored=True, tokenizer_name="raw")
    sb.add_text_field("title", stored=True, tokenizer_name="en_stem")
    sb.add_text_field("body", stored=True, tokenizer_name="en_stem")
    sb.add_unsigned_field("row", stored=True, indexed=False, fast=True)
    return sb.build()


def _builds_dir(index_dir: Path) -> Path:
    return index_dir.parent / f".{index_dir.name}.builds"


def _clean(s: object) -> str:
    return "" if s is None or (isinstance(s, float) and np.isnan(s)) else str(s)


def build_index(
    docs: pd.DataFrame,
    index_dir: Path,
    vectors: np.ndarray | None = None,
    *,
    heap_size: int = 128_000_000,
    threads: int = 1,
    keep_builds: int = 2,
) -> IndexStats:
    """Build a fresh index of ``docs`` (doc_key, kind, title, body) and swap it in atomically.

    ``vectors`` (optional) is row-aligned with ``docs``; rows are L2-normalised on write. Duplicate
    (kind, doc_key) rows keep the last occurrence. Returns build statistics.
    """
    t0 = time.perf_counter()
    missing = {"doc_key", "kind", "title", "body"} - set(docs.columns)
    if missing:
        raise ValueError(f"docs lacks columns {sorted(missing)}")
    if vectors is not None:
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or len(vectors) != len(docs):
            raise ValueError(f"vectors shape {vectors.shape} is not row-aligned with {len(docs)} docs")
    frame = pd.DataFrame(
        {
            "doc_key": docs["doc_key"].map(_clean),
            "kind": docs["kind"].map(_clean),
            "title": docs["title"].map(_clean),
            "body": docs["body"].map(_clean),
        }
    ).reset_index(drop=True)
    keep = ~frame.duplicated(["kind", "doc_key"], keep="last").to_numpy()
    dropped = int((~keep).sum())
    frame = frame[keep].reset_index(drop=True)
    if vectors is not None:
        vectors = vectors[keep]
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        vectors = np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)

    index_dir = Path(index_dir)
    builds = _builds_dir(index_dir)
    builds.mkdir(parents=True, exist_ok=True)
    build_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
    tmp = builds / f"tmp-{build_id}"
    final = builds / build_id
    try:
        (tmp / "tantivy").mkdir(parents=True)
        index = tantivy.Index(_schema(), path=str(tmp / "tantivy"))
        writer = index.writer(heap_size=heap_size, num_threads=max(1, threads))
        for row, (key, kind, title, body) in enumerate(
            zip(frame["doc_key"], frame["kind"], frame["title"], frame["body"], strict=True)
        ):
            doc = tantivy.Document()
            doc.add_text("doc_key", key)
            doc.add_text("kind", kind)
            doc.add_text("title", title)
            doc.add_text("body", body)
            doc.add_unsigned("row", row)
            writer.add_document(doc)
        writer.commit()
        writer.wait_merging_threads()
        meta = frame.assign(body=frame["body"].str.slice(0, _META_BODY_CHARS))
        meta.to_parquet(tmp / "docs.parquet", index=False)
        if vectors is not None:
            np.save(tmp / "vectors.npy", vectors)
        seconds = time.perf_counter() - t0
        stats = IndexStats(
            index_dir=str(index_dir),
            build_id=build_id,
            documents=len(frame),
            by_kind={str(k): int(v) for k, v in frame["kind"].value_counts().sort_index().items()},
            vector_dim=None if vectors is None else int(vectors.shape[1]),
            duplicates_dropped=dropped,
            seconds=round(seconds, 4),
            docs_per_second=round(len(frame) / seconds, 1) if seconds > 0 else 0.0,
        )
        manifest = stats.to_dict() | {"created_at": datetime.now(UTC).isoformat(timespec="seconds")}
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2))
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _swap(index_dir, final)
    _prune(builds, keep=keep_builds, current=final.name)
    return stats


def _swap(index_dir: Path, target: Path) -> None:
    """Point ``index_dir`` at ``target`` with a single atomic rename of a symlink."""
    rel = os.path.relpath(target, index_dir.parent)
    link_tmp = index_dir.parent / f".{index_dir.name}.link-{uuid.uuid4().hex[:8]}"
    os.symlink(rel, link_tmp)
    if index_dir.exists() and not index_dir.is_symlink():
        # legacy: a real directory in the way; move it aside (kept as an old build)
        os.replace(index_dir, _builds_dir(index_dir) / f"legacy-{uuid.uuid4().hex[:8]}")
    os.replace(link_tmp, index_dir)


def _prune(builds: Path, *, keep: int, current: str) -> None:
    olds = sorted(
        (p for p in builds.iterdir() if p.is_dir() and p.name != current and not p.name.startswith("tmp-")),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for p in olds[max(0, keep) :]:
        shutil.rmtree(p, ignore_errors=True)


class SearchIndex:
    """A read-only view of one build (resolved at open time)."""

    def __init__(self, build_dir: Path, index: tantivy.Index, meta: pd.DataFrame,
                 vectors: np.ndarray | None, manifest: dict[str, object]) -> None:
        self.build_dir = build_dir
        self.manifest = manifest
        self._index = index
        self._schema = index.schema
        self._searcher = index.searcher()
        self._meta = meta
        self._keys = meta["doc_key"].to_numpy(dtype=object)
        self._kinds = meta["kind"].to_numpy(dtype=object)
        self._titles = meta["title"].to_numpy(dtype=object)
        self._bodies = meta["body"].to_numpy(dtype=object)
        self._vectors = vectors

    @classmethod
    def open(cls, index_dir: Path) -> SearchIndex:
        index_dir = Path(index_dir)
        build = Path(os.path.realpath(index_dir))
        manifest_path = build / "manifest.json"
        if not manifest_path.is_file():
            raise IndexNotFoundError(f"no search index at {index_dir}")
        manifest = json.loads(manifest_path.read_text())
        index = tantivy.Index.open(str(build / "tantivy"))
        meta = pd.read_parquet(build / "docs.parquet")
        vec_path = build / "vectors.npy"
        vectors = np.load(vec_path) if vec_path.is_file() else None
        return cls(build, index, meta, vectors, manifest)

    @property
    def vector_dim(self) -> int | None:
        return None if self._vectors is None else int(self._vectors.shape[1])

    def count(self, kind: str | None = None) -> int:
        if kind is None:
            return int(self._searcher.num_docs)
        res = self._searcher.search(tantivy.Query.term_query(self._schema, "kind", kind), 1, count=True)
        return int(res.count or 0)  # type: ignore[attr-defined]  # set with count=True; tantivy.pyi omits it

    # ---- text part
    def _text_query(self, tokens: list[str], kind: str | None) -> tantivy.Query | None:
        if not tokens:
            return None
        q, _errors = self._index.parse_query_lenient(
            " ".join(tokens), ["title", "body"], field_boosts={"title": 2.0}
        )
        if kind is not None:
            kq = tantivy.Query.term_query(self._schema, "kind", kind)
            q = tantivy.Query.boolean_query([(tantivy.Occur.Must, q), (tantivy.Occur.Must, kq)])
        return q

    def _text_hits(self, tokens: list[str], kind: str | None, n: int) -> list[tuple[int, float]]:
        q = self._text_query(tokens, kind)
        if q is None or n <= 0:
            return []
        hits = self._searcher.search(q, n).hits
        if not hits:
            return []
        rows = self._searcher.fast_field_values("row", [addr for _s, addr in hits])
        return [(int(r), float(s)) for (s, _a), r in zip(hits, rows, strict=True) if r is not None]

    # ---- vector part
    def _vector_hits(self, qv: np.ndarray | None, kind: str | None, n: int) -> list[tuple[int, float]]:
        if qv is None or self._vectors is None or n <= 0:
            return []
        q = np.asarray(qv, dtype=np.float32).reshape(-1)
        if q.shape[0] != self._vectors.shape[1]:
            raise ValueError(f"query vector has dim {q.shape[0]}, index has {self._vectors.shape[1]}")
        norm = float(np.linalg.norm(q))
        if norm == 0:
            return []
        q = q / norm
        sims = np.empty(len(self._vectors), dtype=np.float32)
        # small GEMV blocks stay single-threaded in OpenBLAS: faster than one big threaded call on a busy box
        for lo in range(0, len(sims), _GEMV_BLOCK):
            np.dot(self._vectors[lo : lo + _GEMV_BLOCK], q, out=sims[lo : lo + _GEMV_BLOCK])
        if kind is not None:
            sims[self._kinds != kind] = -np.inf
        n = min(n, int(np.isfinite(sims).sum()))
        if n == 0:
            return []
        top = np.argpartition(-sims, n - 1)[:n] if n < len(sims) else np.arange(len(sims))
        top = top[np.lexsort((top, -sims[top]))]
        return [(int(i), float(sims[i])) for i in top]

    def search(
        self,
        query: str,
        *,
        kind: str | None = None,
        limit: int = 10,
        query_vector: np.ndarray | None = None,
        candidates: int | None = None,
    ) -> list[Hit]:
        """Top ``limit`` hits (BM25, cosine, or RRF of both when a query vector is given)."""
        if limit <= 0:
            return []
        if limit > MAX_LIMIT:
            # tantivy takes the limit as a 64-bit count and panics (a Rust traceback) far below 2**64
            raise ValueError(f"limit {limit} is above the maximum of {MAX_LIMIT}")
        tokens = query_tokens(query)
        n_cand = max(candidates or 0, limit * 4, 50)
        text = self._text_hits(tokens, kind, n_cand if query_vector is not None else limit)
        vec = self._vector_hits(query_vector, kind, n_cand if tokens else limit)
        if text and vec:
            fused: dict[int, float] = {}
            for hits in (text, vec):
                for rank, (row, _s) in enumerate(hits, start=1):
                    fused[row] = fused.get(row, 0.0) + 1.0 / (RRF_K + rank)
            ranked = sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
            score_kind = "rrf"
        else:
            ranked = (text or vec)[:limit]
            score_kind = "bm25" if text else "cosine"
        return [
            Hit(
                doc_key=str(self._keys[row]),
                kind=str(self._kinds[row]),
                title=str(self._titles[row]),
                score=float(score),
                snippet=make_snippet(str(self._bodies[row]), tokens),
                score_kind=score_kind,
            )
            for row, score in ranked
        ]


def make_snippet(body: str, tokens: list[str], width: int = _SNIPPET_CHARS) -> str:
    """Plain-text window of ``body`` around the first query token (prefix match, for stemmed hits)."""
    text = " ".join(body.split())
    if not text:
        return ""
    low = text.casefold()
    pos = -1
    for t in tokens:
        for probe in (t, t[: max(4, len(t) - 3)]):
            m = re.search(r"\b" + re.escape(probe), low)
            if m is not None and (pos < 0 or m.start() < pos):
                pos = m.start()
                break
    start = 0 if pos < 0 else max(0, pos - width // 4)
    if start > 0:
        space = text.rfind(" ", 0, start)
        start = space + 1 if space >= 0 else start
    snippet = text[start : start + width]
    if start + width < len(text):
        cut = snippet.rfind(" ")
        snippet = (snippet[:cut] if cut > width // 2 else snippet) + " …"
    return ("… " if start > 0 else "") + snippet
