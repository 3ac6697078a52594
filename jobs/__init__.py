"""Jobs: what operators launch from the UI and what schedules and sensors trigger.

Run tags `skillatlas/queue` put each job in a queue with its own concurrency limit (see deploy/dagster.yaml).
Partitioned jobs take their partitions from the selected assets (upload batches, posting days).
"""

import dagster as dg

from jobs.cleanup import cleanup_job
from jobs.llm_batch import llm_batch_cancel_job, llm_batch_collect_job, llm_batch_submit_job
from jobs.reextract import reextract_job
from jobs.retry_failed import retry_failed_items_job
from jobs.review import review_skills_job
from jobs.rollback import rollback_extraction_job
from jobs.undo_merge import undo_skill_merge_job
from skillatlas.store.tables import DOCUMENT_SKILLS, DOCUMENT_TEXT, SKILL_DEMAND_DAILY, SKILL_DEMAND_TRENDS

OPERATOR_JOBS = [reextract_job, retry_failed_items_job, rollback_extraction_job, undo_skill_merge_job]
LLM_BATCH_JOBS = [llm_batch_submit_job, llm_batch_collect_job, llm_batch_cancel_job]


def asset_job(
    name: str, selection: dg.AssetSelection, queue: str, description: str, tags: dict[str, str] | None = None
):  # -> dagster's UnresolvedAssetJobDefinition, not exported publicly
    """A job over a selection of assets, in the run queue `queue` (plus any other run `tags`)."""
    return dg.define_asset_job(
        name, selection=selection, tags={"skillatlas/queue": queue, **(tags or {})}, description=description
    )


def groups(*names: str) -> dg.AssetSelection:
    return dg.AssetSelection.groups(*names)


def assets(*names: str) -> dg.AssetSelection:
    return dg.AssetSelection.assets(*names)


reference_job = asset_job(
    "reference_job", groups("reference"), "reference",
    "Rebuild the taxonomy, its vectors and the O*NET occupations from the shipped reference data.",
)
# One batch per run: a stuck run is cancelled by the stuck-run sensor (no progress for N minutes); the hour
# (dagster/max_runtime) is a backstop for one batch of <= 100 documents, far above the minute or two it takes.
ingest_batch_job = asset_job(
    "ingest_batch_job", assets(DOCUMENT_TEXT, DOCUMENT_SKILLS), "ingest",
    "Parse one upload batch and extract its skills (the inbox sensor launches one run per batch; "
    "a backfill runs one batch per run).",
    {"dagster/max_runtime": "3600"},
)
rebuild_scores_job = asset_job(
    "rebuild_scores_job", groups("scores", "search"), "scoring",
    "Rebuild the SOC map, canonical skills, alignment scores and the search index.",
)
rebuild_index_job = asset_job(
    "rebuild_index_job", groups("search"), "indexing",
    "Rebuild only the search index (e.g. after a bulk upload, without rescoring).",
)
trends_daily_job = asset_job(
    "trends_daily_job", assets(SKILL_DEMAND_DAILY), "scoring",
    "Count skill demand of job postings for a posting day (or a range of days in one run).",
)
trends_job = asset_job(
    "trends_job", assets(SKILL_DEMAND_TRENDS, "rising_vs_hot_technologies"), "scoring",
    "Roll daily demand up into 7- and 30-day windows and rising skills.",
)
# Its own queue (no tag limit in deploy/*.yaml), and a higher run priority: when every run slot is busy with a
# drop of 10,000 files (100 queued ingest runs), the next free slot goes to health, not to the 101st ingest run
# (seen in bench_scale: health queued behind 53 ingest runs).
HEALTH_PRIORITY = "10"
health_job = asset_job(
    "health_job", assets("pipeline_health", "failed_items"), "health",
    "Recompute pipeline health (1 h / 24 h / 7 d windows, queues, retries) from run storage, and "
    "the failed-items view (open item failures with run links, summary per batch).",
    tags={"dagster/priority": HEALTH_PRIORITY},
)

ALL_JOBS = [
    reference_job,
    ingest_batch_job,
    rebuild_scores_job,
    rebuild_index_job,
    trends_daily_job,
    trends_job,
    health_job,
    cleanup_job,
    *OPERATOR_JOBS,
    review_skills_job,
    *LLM_BATCH_JOBS,
]
