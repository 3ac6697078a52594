"""``eval-spans`` figures (best evidence and every occurrence, one extraction) of the offline extractor at a git
revision, for before/after tables: ``skillatlas/extract/offline.py`` of ``--rev`` is loaded from git (``HEAD``'s
working tree when ``--rev`` is omitted), ``max_span_tokens=2`` as ``eval-spans`` uses. Prints one JSON line.

    PYTHONPATH=. .venv/bin/python benchmarks/eval_spans_at_rev.py [--rev e7a024d] [--split dev] [--limit N]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from skillatlas.settings import load_settings  # noqa: E402

RAW_DATA = load_settings().raw_data or ROOT.parent / "shared" / "data"


def span_figures(module: Any, postings: list[Any]) -> tuple[dict[str, Any], dict[str, Any], float]:
    """``eval-spans`` figures of ``module.OfflineExtractor`` (``max_span_tokens=2`` as ``eval-spans`` uses) on
    ``postings`` from one extraction each: best evidence, every occurrence, and the seconds extraction took."""
    from skillatlas.evaluation.spans import evaluate_postings
    from skillatlas.extract import offline
    from skillatlas.extract.embeddings import get_embedder
    from skillatlas.reference.taxonomy import load_taxonomy

    taxonomy = load_taxonomy()
    embedder = get_embedder()
    ex = module.OfflineExtractor(taxonomy, embedder,
                                 offline.load_taxonomy_vectors(taxonomy, embedder, write=False), max_span_tokens=2)
    t0 = time.perf_counter()
    cached = {p.text: ex.find_occurrences(p.text) for p in postings}
    seconds = time.perf_counter() - t0

    class _Cached:
        def extract(self, text: str) -> list[Any]:
            return list(ex.group_occurrences(cached[text]))

    best = evaluate_postings(_Cached(), postings).as_dict()
    occ = evaluate_postings(_Cached(), postings, occurrences=True).as_dict()
    return best, occ, seconds


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rev", default=None)
    ap.add_argument("--split", default="dev")
    ap.add_argument("--limit", type=int, default=None)
    args = ap.parse_args()

    from bench_extract_docs import module_at

    from skillatlas.evaluation.spans import read_skillspan
    from skillatlas.extract import offline

    mod: Any = module_at(args.rev, "skillatlas/extract/offline.py", "offline_at_rev") if args.rev else offline
    postings = read_skillspan(RAW_DATA / "job_postings_skillspan" / f"{args.split}.json", limit=args.limit)
    best, occ, seconds = span_figures(mod, postings)
    print(json.dumps({"rev": args.rev or "working tree", "split": args.split, "extract_seconds": round(seconds, 1),
                      "load_avg_1min": os.getloadavg()[0], "best": best, "occurrences": occ}))


if __name__ == "__main__":
    main()
