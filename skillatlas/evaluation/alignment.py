"""Non-circular evaluation of text -> occupation (SOC) alignment scores.

Query: the O*NET task statements of one SOC code, run through the extractor like a syllabus or a job
posting. Targets: every SOC profile of :func:`skillatlas.reference.soc_map.build_soc_skill_map` built **without** the
skills extracted from O*NET text (``extracted=None``), so no profile contains what the extractor read in
the query - the profiles come from O*NET technology skills and ESCO occupation relations only.

Metrics over the queries:

* ``hit@k`` - the query's own SOC code is among the top k targets;
* ``tier_a_precision`` - share of tier-A pairs that a career adviser would sign, approximated as: the target is
  the query's SOC, shares its 6-digit SOC base (15-1252.00 / 15-1252.01), or is listed as a *Primary*
  related occupation of the query in O*NET "Related Occupations" (``tier_a_precision_strict`` counts the
  SOC itself only);
* ``queries_with_a`` - share of queries with at least one tier-A target (a tier that labels nothing A is
  precise and useless).

Queries are split deterministically into a tune half and a held-out half by a hash of the SOC code
(:func:`soc_part`): the blend weights and tier floors are chosen on ``tune``; ``heldout`` is the estimate.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from skillatlas.evaluation.extraction import split_part
from skillatlas.score.alignment import TierPolicy, alignment_scores, entity_centroids

__all__ = ["AlignmentMetrics", "evaluate_alignment", "read_related_occupations",
           "soc_part", "task_documents"]


def soc_part(soc: str) -> str:
    """``"tune"`` or ``"heldout"``, fixed by a hash of the SOC code (the same split as the sentence sets)."""
    return split_part(soc)


def task_documents(tasks: pd.DataFrame, socs: Iterable[str] | None = None) -> dict[str, str]:
    """SOC code -> its task statements, one per line."""
    t = tasks.assign(soc_code=tasks["soc_code"].astype(str))
    if socs is not None:
        t = t[t["soc_code"].isin(set(socs))]
    docs = t.groupby("soc_code")["task"].agg(lambda s: "\n".join(str(x) for x in s if isinstance(x, str)))
    return {str(k): v for k, v in docs.items() if v.strip()}


def read_related_occupations(path: str | Path, tiers: tuple[str, ...] = ("Primary-Short", "Primary-Long")
                             ) -> dict[str, set[str]]:
    """O*NET "Related Occupations.txt" -> SOC code -> related SOC codes (given relatedness tiers)."""
    df = pd.read_csv(path, sep="\t", dtype=str)
    df = df[df["Relatedness Tier"].isin(tiers)]
    out: dict[str, set[str]] = {}
    for a, b in zip(df["O*NET-SOC Code"], df["Related O*NET-SOC Code"], strict=True):
        out.setdefault(a, set()).add(b)
    return out


@dataclass(frozen=True)
class AlignmentMetrics:
    n_queries: int
    hit_at_1: float
    hit_at_5: float
    hit_at_10: float
    tier_a_pairs: int
    tier_a_precision: float
    tier_a_precision_strict: float
    queries_with_a: float

    def as_dict(self) -> dict[str, Any]:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


def _acceptable(query: str, target: str, related: Mapping[str, set[str]]) -> bool:
    return target == query or target[:7] == query[:7] or target in related.get(query, ())


def metrics_from_scores(scores: pd.DataFrame, queries: Iterable[str], related: Mapping[str, set[str]]
                        ) -> AlignmentMetrics:
    """Metrics from an :func:`alignment_scores` frame (course_id = query SOC, target_id = candidate SOC)."""
    qs = list(queries)
    n = len(qs)
    if n == 0:
        return AlignmentMetrics(0, 0.0, 0.0, 0.0, 0, 0.0, 0.0, 0.0)
    own = scores[scores["course_id"].astype(str) == scores["target_id"].astype(str)]
    own_rank = dict(zip(own["course_id"].astype(str), own["rank"].astype(int), strict=True))
    hits = {k: sum(1 for q in qs if own_rank.get(q, 10**9) <= k) / n for k in (1, 5, 10)}
    a = scores[(scores["tier"] == "A") & scores["course_id"].astype(str).isin(set(qs))]
    ok = [_acceptable(str(q), str(t), related) for q, t in zip(a["course_id"], a["target_id"], strict=True)]
    strict = (a["course_id"].astype(str) == a["target_id"].astype(str)).to_numpy()
    return AlignmentMetrics(
        n_queries=n, hit_at_1=hits[1], hit_at_5=hits[5], hit_at_10=hits[10], tier_a_pairs=len(a),
        tier_a_precision=float(np.mean(ok)) if ok else 0.0,
        tier_a_precision_strict=float(strict.mean()) if len(strict) else 0.0,
        queries_with_a=a["course_id"].nunique() / n)


def evaluate_alignment(query_skills: pd.DataFrame, target_skills: pd.DataFrame, related: Mapping[str, set[str]],
                       *, skill_ids: pd.Index | None = None, vectors: np.ndarray | None = None,
                       weights: tuple[float, float] = (0.7, 0.3), tiers: TierPolicy | None = None,
                       top_k: int = 50) -> tuple[AlignmentMetrics, pd.DataFrame]:
    """Score queries (``entity_id`` = their SOC code) against SOC profiles and measure (metrics, scores)."""
    cv = tv = None
    if vectors is not None and skill_ids is not None and weights[1] > 0:
        cv = entity_centroids(query_skills, skill_ids, vectors)
        tv = entity_centroids(target_skills, skill_ids, vectors)
    scores = alignment_scores(query_skills, target_skills, course_vectors=cv, target_vectors=tv, top_k=top_k,
                              weights=weights, tiers=tiers, explain=False)
    return metrics_from_scores(scores, query_skills["entity_id"].astype(str).unique(), related), scores
