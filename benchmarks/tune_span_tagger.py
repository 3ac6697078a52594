"""Fit the span detector's extraction constants on the held-out fifth of SkillSpan *train* (never dev).

The detector must come from ``scripts/train_span_tagger.py --holdout --out PATH`` (trained on the other four
fifths), so the postings scored here were not seen in training. Grid: detector threshold x
``TAGGED_SPAN_BONUS`` x ``PHRASE_OUTSIDE_SPANS`` x ``LINK_MIN_COS`` (``--contextual``: clauses as mean piece
states); objective = mean of skill recall, knowledge recall and on-gold share (best evidence), as in
``tune_extraction.py``. Prints JSON lines, then the best row.

    PYTHONPATH=. .venv/bin/python benchmarks/tune_span_tagger.py --tagger /tmp/tagger_holdout.npz
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from skillatlas.settings import load_settings  # noqa: E402

RAW_DATA = load_settings().raw_data or Path(__file__).resolve().parents[2] / "shared" / "data"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tagger", required=True, help="a detector trained with --holdout")
    ap.add_argument("--thresholds", default="0.4,0.5,0.6,0.7")
    ap.add_argument("--bonuses", default="0,0.1,0.2,0.3")
    ap.add_argument("--phrase", default="all,multiword,none")
    ap.add_argument("--min-cos", default="0")
    ap.add_argument("--contextual", action="store_true")
    args = ap.parse_args()

    from skillatlas.evaluation.spans import evaluate_postings, is_train_holdout, read_skillspan
    from skillatlas.extract.embeddings import get_embedder
    from skillatlas.extract.offline import OfflineExtractor, load_taxonomy_vectors
    from skillatlas.extract.span_tagger import SpanTagger
    from skillatlas.reference.taxonomy import load_taxonomy

    postings = [p for p in read_skillspan(RAW_DATA / "job_postings_skillspan" / "train.json")
                if is_train_holdout(p.posting_id)]
    taxonomy = load_taxonomy()
    embedder = get_embedder()
    tagger = SpanTagger.load(Path(args.tagger), embedder.model_version)
    assert tagger is not None and "minus held-out" in str(tagger.info.get("recipe")), "train it with --holdout"
    ex = OfflineExtractor(taxonomy, embedder, load_taxonomy_vectors(taxonomy, embedder, write=False),
                          max_span_tokens=2, span_tagger=tagger)
    ex.unit_cache_size = 10**7
    ex.contextual_spans = args.contextual
    memo: dict[tuple[str, ...], object] = {}
    encode = embedder.encode_with_states

    def cached(texts, batch_size=64):  # type: ignore[no-untyped-def]
        key = tuple(texts)
        if key not in memo:
            memo[key] = encode(texts, batch_size)
        return memo[key]

    embedder.encode_with_states = cached  # type: ignore[method-assign]
    rows = []
    grid = itertools.product([float(x) for x in args.thresholds.split(",")],
                             [float(x) for x in args.bonuses.split(",")], args.phrase.split(","),
                             [float(x) for x in args.min_cos.split(",")])
    for tau, bonus, phrase, min_cos in grid:
        tagger.threshold, ex.tagged_span_bonus, ex.phrase_outside_spans = tau, bonus, phrase
        ex.link_min_cos = min_cos
        r = evaluate_postings(ex, postings)
        objective = (r.skill_recall + r.knowledge_recall + r.on_gold_share) / 3
        row = {"postings": len(postings), "threshold": tau, "bonus": bonus, "phrase_outside": phrase,
               "min_cos": min_cos, "objective": round(objective, 4), **r.as_dict()}
        rows.append(row)
        print(json.dumps(row), flush=True)
    print(json.dumps({"best": max(rows, key=lambda r: r["objective"])}))


if __name__ == "__main__":
    main()
