"""Fit the extractor's precision rules on the SkillSpan *train* split (never dev); prints JSON lines.

Extraction runs once per structure setting with the rules off (``skills_per_evidence=0``,
``single_word_min_confidence=0``) at the lowest confidence of the grid; every grid point is then applied to
those mentions in memory (a higher ``min_confidence`` / stricter rule only removes mentions, so this equals a
separate run). Each grid point is scored on each mention's best evidence and on all its occurrences.
Grid: min_confidence x skills_per_evidence x single-word floor. The objective is the mean of
skill recall, knowledge recall and on-gold share (the three issue-12 goals, equally weighted).

    PYTHONPATH=. .venv/bin/python benchmarks/tune_extraction.py [--split train] [--limit 60]
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from skillatlas.settings import load_settings  # noqa: E402

RAW_DATA = load_settings().raw_data or Path(__file__).resolve().parents[2] / "shared" / "data"


class _Replay:
    """An 'extractor' that returns precomputed mentions, filtered by one grid point."""

    def __init__(self, cached: dict[str, list[Any]], extractor: Any, min_conf: float, per_ev: int,
                 single: float) -> None:
        self.cached, self.extractor = cached, extractor
        self.min_conf, self.per_ev, self.single = min_conf, per_ev, single

    def extract(self, text: str) -> list[Any]:
        ex = self.extractor
        ex.skills_per_evidence, ex.single_word_min_confidence = self.per_ev, self.single
        kept = ex._prune([m for m in self.cached[text] if m.confidence >= self.min_conf])
        return ex.group_occurrences(kept)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--split", default="train")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--max-span-tokens", type=int, default=2)
    ap.add_argument("--structure-only", action="store_true", help="skip the run without the template mask")
    args = ap.parse_args()

    from skillatlas.evaluation.spans import evaluate_postings, read_skillspan
    from skillatlas.extract.embeddings import get_embedder
    from skillatlas.extract.offline import OfflineExtractor, load_taxonomy_vectors
    from skillatlas.reference.taxonomy import load_taxonomy

    postings = read_skillspan(RAW_DATA / "job_postings_skillspan" / f"{args.split}.json", limit=args.limit)
    taxonomy = load_taxonomy()
    embedder = get_embedder()
    ex = OfflineExtractor(taxonomy, embedder, load_taxonomy_vectors(taxonomy, embedder, write=False),
                          min_confidence=0.5, max_span_tokens=args.max_span_tokens,
                          skills_per_evidence=0, single_word_min_confidence=0.0)
    ex.unit_cache_size = 10**7
    grid_conf = [0.5, 0.6, 0.7, 0.8]
    grid_per_ev = [0, 1, 2, 3]
    grid_single = [0.0, 0.7, 0.8, 0.9]
    rows = []
    for structure in (True,) if args.structure_only else (False, True):
        ex.use_structure = structure
        ex.skills_per_evidence, ex.single_word_min_confidence = 0, 0.0
        cached = {p.text: ex.find_occurrences(p.text) for p in postings}
        for conf, per_ev, single in itertools.product(grid_conf, grid_per_ev, grid_single):
            for occ in (False, True):
                r = evaluate_postings(_Replay(cached, ex, conf, per_ev, single), postings, occurrences=occ)
                objective = (r.skill_recall + r.knowledge_recall + r.on_gold_share) / 3
                row = {"split": args.split, "postings": len(postings), "structure": structure,
                       "occurrences": occ, "min_confidence": conf, "skills_per_evidence": per_ev,
                       "single_word_min": single, "objective": round(objective, 4),
                       **{k: v for k, v in r.as_dict().items() if k != "seconds"}}
                rows.append(row)
                print(json.dumps(row), flush=True)
    best = max(rows, key=lambda r: r["objective"])
    print(json.dumps({"best": best}))


if __name__ == "__main__":
    main()
