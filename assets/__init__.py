"""Asset modules; `ALL_ASSETS` and `ALL_CHECKS` are what definitions.py loads."""

import warnings

import dagster as dg

# `backfill_policy=` is beta in Dagster 1.13 and warns at every code load; we use it deliberately (range runs).
warnings.filterwarnings("ignore", message=".*backfill_policy.*", category=dg.BetaWarning)
# Code references (with_source_code_references) are beta too; the UI links assets to their source with them.
warnings.filterwarnings("ignore", message=".*(with_source_code_references|CodeReference).*", category=dg.BetaWarning)

from assets import documents, failed_items, health, llm_review, reference, scores, search, trends  # noqa: E402

# Code references: each asset links to its source file and line in the UI.
ALL_ASSETS = dg.with_source_code_references([
    reference.skill_taxonomy,
    reference.taxonomy_vectors,
    reference.onet_occupations,
    documents.document_text,
    documents.document_skills,
    llm_review.skills_review_queue,
    scores.onet_text_skills,
    scores.soc_skill_map,
    scores.skill_merge_map,
    scores.course_occupation_scores,
    scores.course_job_scores,
    scores.job_occupation_scores,
    search.search_index,
    trends.skill_demand_daily,
    trends.skill_demand_trends,
    trends.rising_vs_hot_technologies,
    health.pipeline_health,
    failed_items.failed_items,
])
