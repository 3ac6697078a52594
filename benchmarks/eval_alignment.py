"""Non-circular alignment evaluation (O*NET task statements -> SOC), blend and tier calibration; JSON lines.

See :mod:`skillatlas.evaluation.alignment`. Steps: extract skills from the task statements of ``--n`` SOC codes
(deterministic sample; ``--phrase-only`` skips MiniLM), score them against SOC profiles built without
O*NET-text skills, with the old tier rule, the default one and several overlap/semantic blends; then, on the
**tune** half only, pick the most precise tier-A rule (rank cap x overlap floor x semantic floor) that still
gives an A to >= 15 % of the queries, and report it on both halves (the held-out half is the estimate).

    PYTHONPATH=. .venv/bin/python benchmarks/eval_alignment.py [--n 160] [--phrase-only]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from skillatlas.settings import load_settings  # noqa: E402

RAW_DATA = load_settings().raw_data or Path(__file__).resolve().parents[2] / "shared" / "data"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=160)
    ap.add_argument("--phrase-only", action="store_true")
    ap.add_argument("--cache", default="/tmp/skillatlas_alignment_queries")
    args = ap.parse_args()

    import pandas as pd

    from skillatlas.evaluation.alignment import evaluate_alignment, read_related_occupations, soc_part, task_documents
    from skillatlas.extract.offline import OfflineExtractor, load_taxonomy_vectors
    from skillatlas.reference import sources as reference
    from skillatlas.reference.soc_map import build_soc_skill_map
    from skillatlas.reference.taxonomy import load_taxonomy
    from skillatlas.score.alignment import TierPolicy

    taxonomy = load_taxonomy()
    vectors = load_taxonomy_vectors(taxonomy)
    skill_ids = pd.Index(taxonomy["skill_id"].astype(str))
    occupations = reference.load_onet_occupations()
    soc_map = build_soc_skill_map(occupations, reference.load_onet_technology_skills(),
                                  reference.load_esco_onet_crosswalk(), reference.load_esco_occupation_skills(),
                                  taxonomy, extracted=None)
    targets = soc_map.rename(columns={"soc_code": "entity_id"})[["entity_id", "skill_id", "weight"]]
    direct = set(soc_map.loc[soc_map["source"] != "soc_family", "soc_code"])
    docs = task_documents(reference.load_onet_tasks())
    # queries: SOC codes with tasks and a profile of their own (fallback-only profiles are not a fair target)
    pool = sorted((s for s in docs if s in direct), key=lambda s: hashlib.blake2b(s.encode()).hexdigest())
    socs = pool[: args.n]
    mode = "phrase" if args.phrase_only else "semantic"
    cache = Path(f"{args.cache}_{mode}_{len(socs)}.parquet")
    if cache.is_file():
        queries = pd.read_parquet(cache)
    else:
        if args.phrase_only:
            ex = OfflineExtractor(taxonomy, min_confidence=0.5)
        else:
            from skillatlas.extract.embeddings import get_embedder

            ex = OfflineExtractor(taxonomy, get_embedder(), vectors, min_confidence=0.5, max_span_tokens=2)
        rows = [(s, m.skill_id, float(m.confidence)) for s in socs for m in ex.extract(docs[s])]
        queries = pd.DataFrame(rows, columns=["entity_id", "skill_id", "weight"])
        queries.to_parquet(cache)
    related = read_related_occupations(RAW_DATA / "onet" / "Related Occupations.txt")
    parts = {p: [s for s in socs if soc_part(s) == p] for p in ("tune", "heldout")}

    def run(weights: tuple[float, float], tiers: TierPolicy | None = None) -> dict[str, dict[str, object]]:
        out = {}
        for part, members in parts.items():
            q = queries[queries["entity_id"].isin(members)]
            m, _ = evaluate_alignment(q, targets, related, skill_ids=skill_ids, vectors=vectors, weights=weights,
                                      tiers=tiers)
            out[part] = {**m.as_dict(), "n_queries": len(members)}
        return out

    median_skills = float(queries.groupby("entity_id").size().median())
    print(json.dumps({"mode": mode, "queries": len(socs), "query_skills_median": median_skills,
                      "targets": int(targets["entity_id"].nunique())}))
    old = TierPolicy(a_max_rank=10, a_min_overlap=0.0, a_min_semantic=0.0)
    print(json.dumps({"setting": "old tiers (A = score>=0.20 & rank<=10)", **run((0.7, 0.3), old)}), flush=True)
    print(json.dumps({"setting": f"default tiers {TierPolicy()}", **run((0.7, 0.3))}), flush=True)
    for w in (0.3, 0.5, 0.85, 1.0):
        print(json.dumps({"setting": f"weights {w}/{1 - w:.2f}", **run((w, round(1.0 - w, 2)))}), flush=True)
    # the A rule: on the tune half only, the most precise (rank cap, overlap floor, semantic floor) that still
    # gives an A to >= 15 % of the queries
    from skillatlas.evaluation.alignment import _acceptable

    q_tune = queries[queries["entity_id"].isin(parts["tune"])]
    _, sc = evaluate_alignment(q_tune, targets, related, skill_ids=skill_ids, vectors=vectors, top_k=10,
                               tiers=old)
    sc = sc.assign(ok=[_acceptable(str(a), str(b), related)
                       for a, b in zip(sc["course_id"], sc["target_id"], strict=True)])
    best, best_key = None, (-1.0, -1.0)
    for cap in (1, 2, 3, 5):
        for o in (0.0, 0.05, 0.1, 0.15, 0.2):
            for m in (0.0, 0.7, 0.75, 0.8):
                a = sc[(sc["rank"] <= cap) & (sc["overlap_score"] >= o) & (sc["semantic_score"] >= m)]
                cov = a["course_id"].nunique() / max(1, len(parts["tune"]))
                if len(a) < 10 or cov < 0.15:
                    continue
                key = (round(float(a["ok"].mean()), 2), cov)
                if key > best_key:
                    best, best_key = (cap, o, m), key
    print(json.dumps({"chosen_on_tune": best, "tune_precision_coverage": best_key}))
    if best is not None:
        policy = TierPolicy(a_max_rank=best[0], a_min_overlap=best[1], a_min_semantic=best[2])
        print(json.dumps({"setting": f"chosen {policy}", **run((0.7, 0.3), policy)}))


if __name__ == "__main__":
    main()
