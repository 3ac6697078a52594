"""Asset modules; `ALL_ASSETS` is what definitions.py loads."""

from assets import documents, reference, scores

ALL_ASSETS = [
    reference.skill_taxonomy,
    reference.taxonomy_vectors,
    reference.onet_occupations,
    documents.document_text,
    documents.document_skills,
    scores.soc_skill_map,
    scores.course_occupation_scores,
    scores.course_job_scores,
]
