"""Top-5 occupations for sample syllabi, as the pipeline would score them (prints one JSON line per syllabus).

Extraction: the pipeline's offline extractor (MiniLM, 2-token windows). Targets: the production SOC map
(O*NET technology skills, ESCO relations, phrase-matched O*NET text). Scores: ``alignment_scores`` with the
library defaults (blend weights and tier policy), the same call as the ``course_occupation_scores`` asset.

    PYTHONPATH=. .venv/bin/python benchmarks/sample_top5.py [course-file-name ...]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DEFAULT = [
    "course-acct-310-auditing-and-assurance.txt",
    "course-cs-330-web-application-development.txt",
    "course-nurs-220-health-assessment-and-fundamentals-of-nursing-practice.txt",
    "course-phar-120-pharmacy-technician-practice.html",
    "course-ds-420-machine-learning-engineering.html",
]


def main() -> None:
    import pandas as pd

    from skillatlas.extract.embeddings import get_embedder
    from skillatlas.extract.offline import OfflineExtractor, load_taxonomy_vectors
    from skillatlas.ingest.parsing import parse_document
    from skillatlas.paths import SAMPLE_INBOX
    from skillatlas.reference import sources as reference
    from skillatlas.reference.soc_map import build_soc_skill_map, extract_onet_text_skills
    from skillatlas.reference.taxonomy import load_taxonomy
    from skillatlas.score.alignment import alignment_scores, entity_centroids

    names = sys.argv[1:] or DEFAULT
    taxonomy = load_taxonomy()
    vectors = load_taxonomy_vectors(taxonomy)
    skill_ids = pd.Index(taxonomy["skill_id"].astype(str))
    occupations = reference.load_onet_occupations()
    phrase = OfflineExtractor(taxonomy, min_confidence=0.5)
    extracted = extract_onet_text_skills(occupations, reference.load_onet_tasks(), phrase)
    soc_map = build_soc_skill_map(occupations, reference.load_onet_technology_skills(),
                                  reference.load_esco_onet_crosswalk(), reference.load_esco_occupation_skills(),
                                  taxonomy, extracted=extracted)
    targets = soc_map.rename(columns={"soc_code": "entity_id"})[["entity_id", "skill_id", "weight"]]
    titles = dict(zip(occupations["soc_code"].astype(str), occupations["title"], strict=True))
    ex = OfflineExtractor(taxonomy, get_embedder(), vectors, min_confidence=0.5, max_span_tokens=2)
    rows = []
    for name in names:
        doc = parse_document(SAMPLE_INBOX / "courses" / name)
        text = getattr(doc, "text", doc)
        rows += [(name, m.skill_id, m.confidence) for m in ex.extract(str(text))]
    courses = pd.DataFrame(rows, columns=["entity_id", "skill_id", "weight"])
    scores = alignment_scores(courses, targets, course_vectors=entity_centroids(courses, skill_ids, vectors),
                              target_vectors=entity_centroids(targets, skill_ids, vectors), top_k=5,
                              explain=False)
    for name in names:
        top = scores[scores["course_id"] == name]
        print(json.dumps({"course": name, "skills": int((courses["entity_id"] == name).sum()), "top5": [
            {"soc": t, "title": titles.get(t, t), "score": round(float(s), 3), "overlap": round(float(o), 3),
             "semantic": round(float(m), 3), "tier": str(tier)}
            for t, s, o, m, tier in zip(top["target_id"], top["score"], top["overlap_score"],
                                        top["semantic_score"], top["tier"], strict=True)]}), flush=True)


if __name__ == "__main__":
    main()
