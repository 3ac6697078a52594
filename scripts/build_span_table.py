"""Build ``data/reference/span_vectors.npz``: MiniLM vectors of frequent candidate-span strings.

Recipe (SkillSpan **train** only, never dev): every posting rebuilt as in ``eval-spans``; each sentence's
candidate spans (``candidate_spans(..., max_tokens=2)``, no per-sentence limit); keys = the tokenizer's
normalised strings; kept: every one-token key, and two-token keys seen at least ``--min-count-2`` times.
Embedded by the project's int8 MiniLM (``MiniLMEmbedder.encode``), stored float16 with the model version.

    PYTHONPATH=. .venv/bin/python scripts/build_span_table.py [--min-count-2 2] [--out PATH]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

RAW_DATA = Path(os.environ.get("SKILLATLAS_RAW_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", default=str(RAW_DATA / "job_postings_skillspan" / "train.json"))
    ap.add_argument("--min-count-2", type=int, default=2)
    ap.add_argument("--out", default=None)
    ap.add_argument("--skip", type=int, default=0, help="leave out the first N train postings (held-out tuning)")
    args = ap.parse_args()

    from skillatlas.evaluation.spans import read_skillspan
    from skillatlas.extract.embeddings import get_embedder
    from skillatlas.extract.offline import candidate_spans, split_sentences
    from skillatlas.extract.phrase_match import tokenize
    from skillatlas.extract.span_table import default_span_table_path, save_span_table

    embedder = get_embedder()
    one: Counter[str] = Counter()
    two: Counter[str] = Counter()
    for p in read_skillspan(args.train)[args.skip:]:
        d = p.text
        for s, e in split_sentences(d):
            for a, b in candidate_spans(d, s, e, max_tokens=2, limit=10**9):
                (one if len(tokenize(d[a:b])) == 1 else two)[embedder.normalise(d[a:b])] += 1
    keys = sorted(one) + sorted(k for k, n in two.items() if n >= args.min_count_2 and k not in one)
    t0 = time.perf_counter()
    vectors = embedder.encode(keys)
    out = Path(args.out) if args.out else default_span_table_path()
    save_span_table(out, keys, vectors, embedder.model_version)
    print(f"{out}: {len(keys)} keys ({len(one)} one-token, {len(keys) - len(one)} two-token), "
          f"embedded in {time.perf_counter() - t0:.0f} s, {out.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
