"""Jobs: what operators launch from the UI and what schedules and sensors trigger.

Run tags `skillatlas/queue` put each job in a queue with its own concurrency limit (see deploy/dagster.yaml).
"""

import dagster as dg

from assets.partitions import upload_batches

reference_job = dg.define_asset_job(
    "reference_job",
    selection=dg.AssetSelection.groups("reference"),
    tags={"skillatlas/queue": "reference"},
    description="Rebuild the taxonomy, its vectors and the O*NET occupations from the shipped reference data.",
)

ingest_batch_job = dg.define_asset_job(
    "ingest_batch_job",
    selection=dg.AssetSelection.assets("document_text", "document_skills"),
    partitions_def=upload_batches,
    tags={"skillatlas/queue": "ingest"},
    description="Parse an upload batch and extract its skills (one batch, or a range of batches in one run).",
)

rebuild_scores_job = dg.define_asset_job(
    "rebuild_scores_job",
    selection=dg.AssetSelection.groups("scores", "search"),
    tags={"skillatlas/queue": "scoring"},
    description="Rebuild the SOC map, canonical skills, alignment scores and the search index.",
)

ALL_JOBS = [reference_job, ingest_batch_job, rebuild_scores_job]
