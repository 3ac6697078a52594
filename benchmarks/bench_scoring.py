"""Alignment scoring throughput: 10,000 courses x 1,016 occupations (prints one JSON line).

Synthetic data with realistic sparsity: a 20k skill vocabulary with Zipf-like popularity plus 200 topics
(each entity draws 60 % of its skills from its topic's pool, so related pairs exist), 20-60 skills per
course, 30-150 per occupation, weights in [0.3, 1]. Timed end to end through ``alignment_scores`` (input
preparation, IDF, sparse matmul, 384-d semantic matmul, top-200 argpartition, ranks, tiers, DataFrame).
Explanations (shared/gap skills) are timed separately on a 1,000-course slice because they scale with the
number of kept pairs, not with courses x targets.

    .venv/bin/python benchmarks/bench_scoring.py [--courses 10000] [--targets 1016] [--vocab 20000]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from skillatlas.score.alignment import alignment_scores  # noqa: E402


def synth(
    n: int, lo: int, hi: int, vocab: int, prefix: str, rng: np.random.Generator, n_topics: int = 200
) -> pd.DataFrame:
    """Entities with ``lo..hi`` skills: 60 % from the entity's topic (a 300-skill pool), 40 % from a
    Zipf-like global popularity (so "communication"-style skills are everywhere)."""
    pop = 1.0 / np.power(np.arange(1, vocab + 1) + 20.0, 0.9)
    pop /= pop.sum()
    topic_rng = np.random.default_rng(1234)  # same topics for courses and targets
    pools = topic_rng.integers(0, vocab, size=(n_topics, 300))
    counts = rng.integers(lo, hi + 1, size=n)
    topic = rng.integers(0, n_topics, size=n)
    total = int(counts.sum())
    ent = np.repeat(np.arange(n), counts)
    from_topic = rng.random(total) < 0.6
    skills = rng.choice(vocab, size=total, p=pop)
    skills[from_topic] = pools[topic[ent[from_topic]], rng.integers(0, 300, size=int(from_topic.sum()))]
    df = pd.DataFrame(
        {
            "entity_id": np.char.add(prefix, np.char.zfill(ent.astype(str), 6)),
            "skill_id": np.char.add("s", skills.astype(str)),
            "weight": rng.uniform(0.3, 1.0, size=total),
        }
    )
    return df.drop_duplicates(["entity_id", "skill_id"])


def vectors(ids: np.ndarray, dim: int, rng: np.random.Generator) -> pd.DataFrame:
    v = rng.standard_normal((len(ids), dim)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    return pd.DataFrame(v, index=ids)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--courses", type=int, default=10_000)
    ap.add_argument("--targets", type=int, default=1_016)
    ap.add_argument("--vocab", type=int, default=20_000)
    ap.add_argument("--top-k", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    rng = np.random.default_rng(42)
    courses = synth(args.courses, 20, 60, args.vocab, "c", rng)
    targets = synth(args.targets, 30, 150, args.vocab, "t", rng)
    cvec = vectors(courses["entity_id"].unique(), 384, rng)
    tvec = vectors(targets["entity_id"].unique(), 384, rng)
    pairs = courses["entity_id"].nunique() * targets["entity_id"].nunique()

    def best(fn: object, repeat: int) -> tuple[float, pd.DataFrame]:
        times, out = [], pd.DataFrame()
        for _ in range(repeat):
            t0 = time.perf_counter()
            out = fn()  # type: ignore[operator]
            times.append(time.perf_counter() - t0)
        return min(times), out

    t_overlap, res_o = best(
        lambda: alignment_scores(courses, targets, top_k=args.top_k, explain=False), args.repeat
    )
    t_hybrid, res_h = best(
        lambda: alignment_scores(
            courses, targets, course_vectors=cvec, target_vectors=tvec, top_k=args.top_k, explain=False
        ),
        args.repeat,
    )
    sub_ids = courses["entity_id"].unique()[:1000]
    sub = courses[courses["entity_id"].isin(sub_ids)]
    t_explain_total, res_e = best(lambda: alignment_scores(sub, targets, top_k=args.top_k), 1)
    t_plain_sub, _ = best(lambda: alignment_scores(sub, targets, top_k=args.top_k, explain=False), 1)
    explain_pairs = len(res_e)
    print(
        json.dumps(
            {
                "benchmark": "alignment_scores",
                "courses": int(courses["entity_id"].nunique()),
                "targets": int(targets["entity_id"].nunique()),
                "vocab": args.vocab,
                "course_skill_rows": len(courses),
                "target_skill_rows": len(targets),
                "top_k": args.top_k,
                "pairs": pairs,
                "overlap_only_seconds": round(t_overlap, 3),
                "overlap_only_pairs_per_s": round(pairs / t_overlap),
                "hybrid_seconds": round(t_hybrid, 3),
                "hybrid_pairs_per_s": round(pairs / t_hybrid),
                "rows_out": len(res_h),
                "tier_counts": {k: int(v) for k, v in res_h["tier"].value_counts().sort_index().items()},
                "overlap_rows_out": len(res_o),
                "explain_courses": len(sub_ids),
                "explain_pairs": explain_pairs,
                "explain_seconds": round(max(t_explain_total - t_plain_sub, 0.0), 3),
                "explain_pairs_per_s": round(explain_pairs / max(t_explain_total - t_plain_sub, 1e-9)),
                "goal_pairs_per_s": 10_000_000,
                "meets_goal": pairs / t_hybrid >= 10_000_000,
            }
        )
    )


if __name__ == "__main__":
    main()
