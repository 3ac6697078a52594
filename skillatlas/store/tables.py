"""Every warehouse table's name, and the columns of the tables this code writes row by row.

The one place to rename a table: modules read and write tables through these constants, never through
string literals. Tables written by the warehouse IO manager are named after their asset; their constant here
is what SQL reads use (an asset's function name must still match, see `assets/`).
Column descriptions for the UI live with the schemas in `assets/catalog.py`, which builds on these lists.
"""

from __future__ import annotations

# ------------------------------------------------------------------------------------------- uploads
# One row per registered upload (the inbox sensor writes it; a batch's work starts from it).
UPLOAD_MANIFEST = "upload_manifest"
MANIFEST_COLUMNS = [
    "batch_id", "doc_id", "relpath", "kind", "sha256", "size_bytes", "mtime_ns", "registered_at",
]
# Inbox entries the sensor refused (symlink out of the inbox, FIFO, oversized, ...): one row per path and reason.
SKIPPED_UPLOADS = "skipped_uploads"
SKIPPED_UPLOAD_COLUMNS = [
    "relpath", "reason_kind", "reason", "size_bytes", "mtime_ns", "ctime_ns", "sha256", "first_seen_at",
    "last_seen_at",
]

# ------------------------------------------------------------------------------------------- documents
DOCUMENT_TEXT = "document_text"
TEXT_COLUMNS = [
    "batch_id", "doc_id", "relpath", "kind", "format", "title", "posted_date", "sha256", "char_count",
    "truncated", "text",
]
DOCUMENT_SKILLS = "document_skills"
SKILL_COLUMNS = [
    "batch_id", "doc_id", "kind", "skill_id", "label", "confidence", "method", "evidence_start", "evidence_end",
    "evidence", "occurrences", "extractor_version",
]
# A batch's skill rows before they were replaced (SKILL_COLUMNS + archived_by_run, archived_at): rollback source.
DOCUMENT_SKILLS_HISTORY = "document_skills_history"
# Older versions of a path, retired from the live tables (+ superseded_at, superseded_by_run[, _by_batch]).
SUPERSEDED_DOCUMENT_TEXT = "superseded_document_text"
SUPERSEDED_DOCUMENT_SKILLS = "superseded_document_skills"

# ------------------------------------------------------------------------------------------- batch bookkeeping
# One row per committed (asset, batch): version and input fingerprint, so retries skip finished batches.
BATCH_COMMITS = "batch_commits"
BATCH_COMMIT_COLUMNS = [
    "asset", "batch_id", "version", "fingerprint", "run_id", "committed_at", "processed", "succeeded", "failed",
    "row_count", "metadata",
]
# The item-level error ledger: open failures, and every failure ever recorded.
ITEM_FAILURES = "item_failures"
ITEM_FAILURE_HISTORY = "item_failure_history"
LEDGER_COLUMNS = [
    "asset", "partition", "item", "error_kind", "message", "transient", "attempts", "run_id", "failed_at",
]
# Failed runs and the notices sent about them (run failure sensor).
RUN_FAILURES = "run_failures"
RUN_NOTICES = "run_notices"

# ------------------------------------------------------------------------------------------- LLM review and batches
SKILLS_REVIEW_QUEUE = "skills_review_queue"
REVIEW_COLUMNS = [
    "review_id", "batch_id", "doc_id", "item", "reason", "proposed_skills", "status", "run_id", "run_url",
    "extractor_version", "created_at", "decided_at", "decided_by", "note",
]
LLM_BATCH_JOBS = "llm_batch_jobs"
LLM_BATCH_REQUESTS = "llm_batch_requests"
LLM_BATCH_DOCUMENTS = "llm_batch_documents"
LLM_BATCH_STAGED_SKILLS = "llm_batch_staged_skills"
LLM_BATCH_STAGED_FAILURES = "llm_batch_staged_failures"
LLM_BATCH_STAGED_REVIEWS = "llm_batch_staged_reviews"

# ------------------------------------------------------------------------------------------- reference data
SKILL_TAXONOMY = "skill_taxonomy"
ONET_OCCUPATIONS = "onet_occupations"
ONET_TEXT_SKILLS = "onet_text_skills"
SOC_SKILL_MAP = "soc_skill_map"
SKILL_MERGE_MAP = "skill_merge_map"

# ------------------------------------------------------------------------------------------- scores and trends
COURSE_OCCUPATION_SCORES = "course_occupation_scores"
COURSE_JOB_SCORES = "course_job_scores"
JOB_OCCUPATION_SCORES = "job_occupation_scores"
SKILL_DEMAND_DAILY = "skill_demand_daily"
SKILL_DEMAND_DAILY_COLUMNS = ["day", "skill_id", "label", "postings", "share"]
SKILL_DEMAND_TRENDS = "skill_demand_trends"
RISING_VS_HOT_TECHNOLOGIES = "rising_vs_hot_technologies"

# ------------------------------------------------------------------------------------------- operations views
PIPELINE_HEALTH = "pipeline_health"
FAILED_ITEMS = "failed_items"  # the open ledger as the UI shows it (LEDGER_COLUMNS + run_url)
