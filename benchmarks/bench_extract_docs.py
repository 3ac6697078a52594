"""Documents/s of the offline extractor with and without the template mask, same run (prints one JSON line).

Documents: the first ``--n`` SkillSpan dev postings rebuilt as documents. ``before`` = ``use_structure=False``
and no per-evidence cap (the embedding work of the extractor before issue 12: every sentence and its candidate
spans); ``after`` = defaults. Span-embedding cache off; the two are interleaved ``--passes`` times and the best
pass of each is reported, next to MiniLM's own rate on the same documents' sentences.

    PYTHONPATH=. .venv/bin/python benchmarks/bench_extract_docs.py [--n 8] [--passes 2]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from skillatlas.settings import load_settings  # noqa: E402

RAW_DATA = load_settings().raw_data or Path(__file__).resolve().parents[2] / "shared" / "data"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=8)
    ap.add_argument("--passes", type=int, default=2)
    args = ap.parse_args()

    from skillatlas.evaluation.spans import read_skillspan
    from skillatlas.extract.embeddings import get_embedder
    from skillatlas.extract.offline import OfflineExtractor, load_taxonomy_vectors, split_sentences
    from skillatlas.reference.taxonomy import load_taxonomy

    docs = [p.text for p in read_skillspan(RAW_DATA / "job_postings_skillspan" / "dev.json", limit=args.n)]
    taxonomy = load_taxonomy()
    embedder = get_embedder()
    vectors = load_taxonomy_vectors(taxonomy, embedder, write=False)
    before = OfflineExtractor(taxonomy, embedder, vectors, max_span_tokens=2, use_structure=False,
                              skills_per_evidence=0)
    after = OfflineExtractor(taxonomy, embedder, vectors, max_span_tokens=2)
    for ex in (before, after):
        ex.unit_cache_size = 0
    sentences = [d[s:e] for d in docs for s, e in split_sentences(d)]
    best = {"before": float("inf"), "after": float("inf"), "raw": float("inf")}
    for _ in range(args.passes):
        for name, ex in (("before", before), ("after", after)):
            t0 = time.perf_counter()
            for d in docs:
                ex.extract(d)
            best[name] = min(best[name], time.perf_counter() - t0)
        t0 = time.perf_counter()
        embedder.encode(sentences)
        best["raw"] = min(best["raw"], time.perf_counter() - t0)
    print(json.dumps({
        "documents": len(docs), "sentences": len(sentences),
        "before_documents_per_s": round(len(docs) / best["before"], 3),
        "after_documents_per_s": round(len(docs) / best["after"], 3),
        "speedup": round(best["before"] / best["after"], 3),
        "after_sentences_per_s": round(len(sentences) / best["after"], 1),
        "model_sentences_per_s": round(len(sentences) / best["raw"], 1)}))


if __name__ == "__main__":
    main()
