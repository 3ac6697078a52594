"""Search index build throughput and query latency (prints one JSON line).

Corpus: the shipped reference data - every O*NET occupation (title, description, tasks), every ESCO skill
(label, description) - plus synthetic courses and job postings stitched from O*NET task statements
(``--courses``, ``--jobs``). Vectors are random unit 384-d rows (this measures the index, not the embedder).
1,000 queries (skill labels and occupation titles, a few hostile strings) are timed text-only (BM25) and
hybrid (BM25 + cosine, RRF) after one warm-up pass.

    .venv/bin/python benchmarks/bench_index.py [--courses 2000] [--jobs 5000] [--queries 1000]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from skillatlas.index.search import SearchIndex, build_index  # noqa: E402
from skillatlas.reference import sources as reference  # noqa: E402


def corpus(n_courses: int, n_jobs: int, rng: np.random.Generator) -> pd.DataFrame:
    occ = reference.load_onet_occupations()
    tasks = reference.load_onet_tasks()
    skills = reference.load_esco_skills()
    task_text = tasks.groupby("soc_code")["task"].agg(" ".join)
    occ_docs = pd.DataFrame(
        {
            "doc_key": occ["soc_code"],
            "kind": "occupation",
            "title": occ["title"],
            "body": occ["description"].fillna("") + " " + occ["soc_code"].map(task_text).fillna(""),
        }
    )
    skill_docs = pd.DataFrame(
        {
            "doc_key": skills["esco_uri"],
            "kind": "skill",
            "title": skills["preferred_label"],
            "body": skills["description"].fillna(""),
        }
    )
    all_tasks = tasks["task"].to_numpy(dtype=object)
    titles = occ["title"].to_numpy(dtype=object)

    def stitched(n: int, kind: str, lo: int, hi: int) -> pd.DataFrame:
        sizes = rng.integers(lo, hi, size=n)
        bodies = [" ".join(rng.choice(all_tasks, size=k)) for k in sizes]
        return pd.DataFrame(
            {
                "doc_key": [f"{kind}:{i}" for i in range(n)],
                "kind": kind,
                "title": [f"{t} ({kind} {i})" for i, t in enumerate(rng.choice(titles, size=n))],
                "body": bodies,
            }
        )

    return pd.concat(
        [occ_docs, skill_docs, stitched(n_courses, "course", 20, 60), stitched(n_jobs, "job", 8, 25)],
        ignore_index=True,
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--courses", type=int, default=2000)
    ap.add_argument("--jobs", type=int, default=5000)
    ap.add_argument("--queries", type=int, default=1000)
    args = ap.parse_args()
    rng = np.random.default_rng(7)
    docs = corpus(args.courses, args.jobs, rng)
    vecs = rng.standard_normal((len(docs), 384)).astype(np.float32)
    body_chars = int(docs["body"].str.len().sum())

    labels = reference.load_esco_skills()["preferred_label"].to_numpy(dtype=object)
    titles = reference.load_onet_occupations()["title"].to_numpy(dtype=object)
    hostile = ['title:"', "a AND OR (", "*", "((((x", "kind:job python^9"]
    half = args.queries // 2
    queries = list(rng.choice(labels, size=half)) + list(rng.choice(titles, size=args.queries - half))
    queries[: len(hostile)] = hostile
    qvecs = rng.standard_normal((len(queries), 384)).astype(np.float32)

    with tempfile.TemporaryDirectory() as tmp:
        idx = Path(tmp) / "index"
        t0 = time.perf_counter()
        stats = build_index(docs, idx, vecs)
        build_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        ix = SearchIndex.open(idx)
        open_s = time.perf_counter() - t0
        for q in queries[:50]:  # warm-up
            ix.search(q)

        def timed(hybrid: bool) -> np.ndarray:
            lat = np.empty(len(queries))
            for i, q in enumerate(queries):
                t = time.perf_counter()
                ix.search(q, limit=10, query_vector=qvecs[i] if hybrid else None)
                lat[i] = time.perf_counter() - t
            return lat * 1000.0

        text_ms = timed(False)
        hybrid_ms = timed(True)
        t = time.perf_counter()
        for q in queries[:200]:
            ix.search(q, kind="job")
        kind_ms = np.array([(time.perf_counter() - t) * 1000.0 / 200])
        counts_ok = ix.count() == len(docs)

    print(
        json.dumps(
            {
                "benchmark": "search_index",
                "documents": stats.documents,
                "by_kind": stats.by_kind,
                "body_chars": body_chars,
                "vector_dim": stats.vector_dim,
                "build_seconds": round(build_s, 3),
                "build_docs_per_s": round(stats.documents / build_s, 1),
                "open_seconds": round(open_s, 3),
                "queries": len(queries),
                "text_p50_ms": round(float(np.percentile(text_ms, 50)), 3),
                "text_p99_ms": round(float(np.percentile(text_ms, 99)), 3),
                "hybrid_p50_ms": round(float(np.percentile(hybrid_ms, 50)), 3),
                "hybrid_p99_ms": round(float(np.percentile(hybrid_ms, 99)), 3),
                "kind_filter_mean_ms": round(float(kind_ms.mean()), 3),
                "count_equals_docs": counts_ok,
            }
        )
    )


if __name__ == "__main__":
    main()
