"""Jobs: what operators launch from the UI and what schedules and sensors trigger.

Run tags `skillatlas/queue` put each job in a queue with its own concurrency limit (see deploy/dagster.yaml).
Partitioned jobs take their partitions from the selected assets (upload batches, posting days).
"""

import dagster as dg

from jobs.cleanup import cleanup_job
from jobs.llm_batch import LLM_BATCH_JOBS
from jobs.operator import OPERATOR_JOBS
from jobs.review import review_skills_job

reference_job = dg.define_asset_job(
    "reference_job",
    selection=dg.AssetSelection.groups("reference"),
    tags={"skillatlas/queue": "reference"},
    description="Rebuild the taxonomy, its vectors and the O*NET occupations from the shipped reference data.",
)

ingest_batch_job = dg.define_asset_job(
    "ingest_batch_job",
    selection=dg.AssetSelection.assets("document_text", "document_skills"),
    # One batch per run: a stuck run is cancelled by the stuck-run sensor (no progress for N minutes); the hour
    # here is a backstop for one batch of <= 100 documents, far above the minute or two it takes.
    tags={"skillatlas/queue": "ingest", "dagster/max_runtime": "3600"},
    description="Parse one upload batch and extract its skills (the inbox sensor launches one run per batch; "
    "a backfill runs one batch per run).",
)

rebuild_scores_job = dg.define_asset_job(
    "rebuild_scores_job",
    selection=dg.AssetSelection.groups("scores", "search"),
    tags={"skillatlas/queue": "scoring"},
    description="Rebuild the SOC map, canonical skills, alignment scores and the search index.",
)

rebuild_index_job = dg.define_asset_job(
    "rebuild_index_job",
    selection=dg.AssetSelection.groups("search"),
    tags={"skillatlas/queue": "indexing"},
    description="Rebuild only the search index (e.g. after a bulk upload, without rescoring).",
)

trends_daily_job = dg.define_asset_job(
    "trends_daily_job",
    selection=dg.AssetSelection.assets("skill_demand_daily"),
    tags={"skillatlas/queue": "scoring"},
    description="Count skill demand of job postings for a posting day (or a range of days in one run).",
)

trends_job = dg.define_asset_job(
    "trends_job",
    selection=dg.AssetSelection.assets("skill_demand_trends", "rising_vs_hot_technologies"),
    tags={"skillatlas/queue": "scoring"},
    description="Roll daily demand up into 7- and 30-day windows and rising skills.",
)

health_job = dg.define_asset_job(
    "health_job",
    selection=dg.AssetSelection.assets("pipeline_health", "failed_items"),
    # its own queue (no concurrency limit in deploy/*.yaml): health must not wait behind a long reference run
    tags={"skillatlas/queue": "health"},
    description="Recompute pipeline health (1 h / 24 h / 7 d windows, queues, retries) from run storage, and "
    "the failed-items view (open item failures with run links, summary per batch).",
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
