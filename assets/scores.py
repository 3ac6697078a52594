"""What people query: the SOC→skills map, canonical skills, and course alignment scores."""


from typing import Any

import dagster as dg
import numpy as np
import pandas as pd
from pydantic import Field

from assets.catalog import DATA_OWNERS, table_asset, table_kinds, table_metadata
from assets.reference import decode_taxonomy, load_taxonomy_vectors
from resources.artifacts import ArtifactStore
from resources.warehouse import WarehouseResource
from skillatlas.extract.offline import OfflineExtractor
from skillatlas.reference import sources as reference
from skillatlas.score.alignment import alignment_scores, entity_centroids
from skillatlas.settings import DEFAULT_MIN_CONFIDENCE
from skillatlas.store.tables import (
    COURSE_JOB_SCORES,
    COURSE_OCCUPATION_SCORES,
    JOB_OCCUPATION_SCORES,
    ONET_TEXT_SKILLS,
    SKILL_MERGE_MAP,
    SOC_SKILL_MAP,
)

SCORES_GROUP = "scores"
SCORING_TAGS = {"skillatlas/queue": "scoring"}


@dg.asset(
    group_name="reference", kinds=table_kinds(), owners=DATA_OWNERS, metadata=table_metadata(ONET_TEXT_SKILLS),
    tags={"skillatlas/queue": "reference"},
)
def onet_text_skills(context: dg.AssetExecutionContext, skill_taxonomy: pd.DataFrame) -> pd.DataFrame:
    r"""Taxonomy skills phrase-matched in each O\*NET occupation's description and task statements:
    one row per (SOC code, skill) with the best match confidence. Reference-derived, so it is rebuilt with
    the taxonomy, not every night."""
    from skillatlas.reference.soc_map import extract_onet_text_skills

    # reference data: the default threshold, not the deployment's SKILLATLAS_MIN_CONFIDENCE for documents;
    # Any: soc_map's extractor protocol asks for list[_Mention] (invariant), OfflineExtractor returns SkillMentions
    phrase_only: Any = OfflineExtractor(
        decode_taxonomy(skill_taxonomy), embedder=None, min_confidence=DEFAULT_MIN_CONFIDENCE
    )
    extracted = extract_onet_text_skills(
        reference.load_onet_occupations(), reference.load_onet_tasks(), phrase_only
    )
    context.add_output_metadata({"links": len(extracted), "soc_codes": int(extracted["soc_code"].nunique())})
    return extracted


@dg.asset(
    group_name=SCORES_GROUP, kinds=table_kinds(), owners=DATA_OWNERS, metadata=table_metadata(SOC_SKILL_MAP),
    tags=SCORING_TAGS,
)
def soc_skill_map(
    context: dg.AssetExecutionContext, skill_taxonomy: pd.DataFrame, onet_text_skills: pd.DataFrame
) -> pd.DataFrame:
    r"""Skills each of the 1,016 O\*NET-SOC occupations needs, one row per (SOC code, skill): O\*NET technology
    skills (with Hot Technology / In Demand flags), ESCO essential/optional skills through the ESCO→O\*NET
    crosswalk, and skills phrase-matched in the O\*NET description and task statements. `weight` in (0, 1]
    and `sources` say where each link comes from."""
    from skillatlas.reference.soc_map import build_soc_skill_map

    taxonomy = decode_taxonomy(skill_taxonomy)
    occupations = reference.load_onet_occupations()
    soc_map = build_soc_skill_map(
        occupations,
        reference.load_onet_technology_skills(),
        reference.load_esco_onet_crosswalk(),
        reference.load_esco_occupation_skills(),
        taxonomy,
        extracted=onet_text_skills,
    )
    mapped = soc_map["soc_code"].nunique()
    context.add_output_metadata(
        {
            "links": len(soc_map),
            "soc_codes_mapped": int(mapped),
            "soc_codes_total": len(occupations),
            "mean_skills_per_soc": round(len(soc_map) / max(1, mapped), 1),
        }
    )
    return soc_map


class MergeConfig(dg.Config):
    threshold: float = Field(
        default=0.95, description="Cosine similarity in [0.5, 1.0] at or above which two skills are the same skill."
    )


@dg.asset(
    group_name=SCORES_GROUP, kinds=table_kinds(), owners=DATA_OWNERS, metadata=table_metadata(SKILL_MERGE_MAP),
    tags=SCORING_TAGS,
)
def skill_merge_map(
    context: dg.AssetExecutionContext,
    config: MergeConfig,
    artifacts: ArtifactStore,
    warehouse: WarehouseResource,
    skill_taxonomy: pd.DataFrame,
) -> pd.DataFrame:
    r"""Near-duplicate sweep: taxonomy skills whose embeddings have cosine >= threshold form a cluster with one
    canonical winner (ESCO over O\*NET, then more aliases, then the shorter label). One row per merged skill
    with its canonical id and similarity; `undone_at` keeps merges an operator reversed (undo_skill_merge_job),
    and the sweep keeps them reversed."""
    from skillatlas.reference.dedup import active_merges, find_near_duplicates

    if not 0.5 <= config.threshold <= 1.0:
        raise dg.Failure(f"threshold {config.threshold} is outside [0.5, 1.0]", allow_retries=False)
    taxonomy = decode_taxonomy(skill_taxonomy)
    vectors = load_taxonomy_vectors(artifacts, taxonomy)
    if vectors is None:
        raise dg.Failure("taxonomy_vectors is missing or stale: materialise it first", allow_retries=False)
    previous = warehouse.read_table(SKILL_MERGE_MAP)
    merge_map = find_near_duplicates(
        taxonomy[["skill_id", "label", "source", "aliases"]], vectors, threshold=config.threshold,
        previous=previous if not previous.empty else None,
    )
    active = active_merges(merge_map)
    context.add_output_metadata(
        {
            "threshold": config.threshold,
            "clusters": int(active["cluster_id"].nunique()) if len(active) else 0,
            "merged_skills": int((active["skill_id"] != active["canonical_id"]).sum()) if len(active) else 0,
            "undone_merges": int(merge_map["undone_at"].notna().sum()) if len(merge_map) else 0,
        }
    )
    return merge_map


def canonical(skills: pd.DataFrame, merge_map: pd.DataFrame) -> pd.DataFrame:
    """Skill rows rewritten to canonical ids; one row per (entity, skill) with the highest weight."""
    from skillatlas.reference.dedup import apply_merge_map

    merged = apply_merge_map(skills, merge_map) if len(merge_map) else skills
    return merged.groupby(["entity_id", "skill_id"], as_index=False)["weight"].max()


def entity_vectors(
    entity_skills: pd.DataFrame, taxonomy: pd.DataFrame, vectors: np.ndarray | None
) -> dict[str, np.ndarray] | None:
    """Per-entity embedding: weighted mean of its skills' taxonomy vectors, L2-normalised."""
    if vectors is None or entity_skills.empty:
        return None
    return entity_centroids(entity_skills, pd.Index(taxonomy["skill_id"]), vectors)


def course_skill_frame(document_skills: pd.DataFrame, kind: str) -> pd.DataFrame:
    frame = document_skills[document_skills["kind"] == kind]
    return frame.rename(columns={"doc_id": "entity_id", "confidence": "weight"})[["entity_id", "skill_id", "weight"]]


def occupation_skills(soc_skill_map: pd.DataFrame, skill_merge_map: pd.DataFrame) -> pd.DataFrame:
    """Occupations as scoring entities (entity_id = SOC code), on canonical skills."""
    targets = soc_skill_map.rename(columns={"soc_code": "entity_id"})[["entity_id", "skill_id", "weight"]]
    return canonical(targets, skill_merge_map)


def document_entities(document_skills: pd.DataFrame, kind: str, skill_merge_map: pd.DataFrame) -> pd.DataFrame:
    """Documents of one kind as scoring entities (entity_id = doc_id), on canonical skills."""
    return canonical(course_skill_frame(document_skills, kind), skill_merge_map)


def _score(
    context: dg.AssetExecutionContext,
    artifacts: ArtifactStore,
    skill_taxonomy: pd.DataFrame,
    courses: pd.DataFrame,
    targets: pd.DataFrame,
) -> pd.DataFrame:
    taxonomy = decode_taxonomy(skill_taxonomy)
    vectors = load_taxonomy_vectors(artifacts, taxonomy)
    labels = taxonomy.set_index("skill_id")["label"]
    scores = alignment_scores(
        courses,
        targets,
        course_vectors=entity_vectors(courses, taxonomy, vectors),
        target_vectors=entity_vectors(targets, taxonomy, vectors),
        top_k=200,
        skill_labels=labels,
    )
    context.add_output_metadata(
        {
            "pairs": len(scores),
            "courses_scored": int(scores["course_id"].nunique()),
            "courses_total": int(courses["entity_id"].nunique()),
            "tier_counts": dg.MetadataValue.json(scores["tier"].value_counts().to_dict()),
            "mean_top1_score": float(scores[scores["rank"] == 1]["score"].mean()) if len(scores) else 0.0,
        }
    )
    return scores


@table_asset(COURSE_OCCUPATION_SCORES, SCORES_GROUP, "scoring")
def course_occupation_scores(
    context: dg.AssetExecutionContext, artifacts: ArtifactStore, document_skills: pd.DataFrame,
    soc_skill_map: pd.DataFrame, skill_merge_map: pd.DataFrame, skill_taxonomy: pd.DataFrame,
) -> pd.DataFrame:
    r"""Course ↔ occupation alignment: for every course, its top 200 O\*NET occupations with a score in [0, 1]
    (IDF-weighted skill overlap, so rare skills weigh more, blended with skill-embedding similarity), a tier
    (A/B/C), the shared skills that explain it and the skill gaps the course leaves."""
    courses = document_entities(document_skills, "course", skill_merge_map)
    return _score(context, artifacts, skill_taxonomy, courses, occupation_skills(soc_skill_map, skill_merge_map))


@table_asset(COURSE_JOB_SCORES, SCORES_GROUP, "scoring")
def course_job_scores(
    context: dg.AssetExecutionContext, artifacts: ArtifactStore, document_skills: pd.DataFrame,
    skill_merge_map: pd.DataFrame, skill_taxonomy: pd.DataFrame,
) -> pd.DataFrame:
    """Course ↔ job-posting alignment, same method as course ↔ occupation: top 200 postings per course,
    score, tier, shared skills and gaps."""
    courses = document_entities(document_skills, "course", skill_merge_map)
    jobs = document_entities(document_skills, "job", skill_merge_map)
    return _score(context, artifacts, skill_taxonomy, courses, jobs)


@table_asset(JOB_OCCUPATION_SCORES, SCORES_GROUP, "scoring")
def job_occupation_scores(
    context: dg.AssetExecutionContext, artifacts: ArtifactStore, document_skills: pd.DataFrame,
    soc_skill_map: pd.DataFrame, skill_merge_map: pd.DataFrame, skill_taxonomy: pd.DataFrame,
) -> pd.DataFrame:
    r"""Job posting -> occupation (SOC) alignment, the link that ties demand to occupations: for every job
    posting (`job_id` = its doc_id), its top 200 O\*NET occupations with score, tier, shared skills and gaps,
    by the same method as course_occupation_scores."""
    jobs = document_entities(document_skills, "job", skill_merge_map)
    scores = _score(context, artifacts, skill_taxonomy, jobs, occupation_skills(soc_skill_map, skill_merge_map))
    return scores.rename(columns={"course_id": "job_id"})
