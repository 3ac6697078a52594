"""Asset modules; `ALL_ASSETS` and `ALL_CHECKS` are what definitions.py loads."""

from assets import documents, health, reference, scores, search, trends

ALL_ASSETS = [
    reference.skill_taxonomy,
    reference.taxonomy_vectors,
    reference.onet_occupations,
    documents.document_text,
    documents.document_skills,
    scores.onet_text_skills,
    scores.soc_skill_map,
    scores.skill_merge_map,
    scores.course_occupation_scores,
    scores.course_job_scores,
    search.search_index,
    trends.skill_demand_daily,
    trends.skill_demand_trends,
    trends.rising_vs_hot_technologies,
    health.pipeline_health,
]
