"""Inbox sensor: new uploads become batches (dynamic partitions) and one ingest run per tick.

Exactly-once registration, even if the sensor dies midway:
1. files newer than the cursor's (mtime, path) watermark are hashed;
2. content already in `upload_manifest` is a re-upload and is skipped (logged, never re-processed);
3. the new batches' manifest rows are committed in one transaction *before* the partitions are requested;
4. every tick also re-requests batches that are in the manifest but not yet a partition, so a tick that
   crashed between step 3 and the partition request loses nothing.
"""

import json
from datetime import UTC, datetime

import dagster as dg
import pandas as pd

from assets.documents import MANIFEST_TABLE
from assets.partitions import upload_batches
from resources.inbox import InboxResource
from resources.warehouse import WarehouseResource, utc_now_iso
from skillatlas.inbox import document_id, plan_batches, scan_inbox

MANIFEST_COLUMNS = ["batch_id", "doc_id", "relpath", "kind", "sha256", "size_bytes", "registered_at"]


def parse_cursor(raw: str | None) -> tuple[int, str] | None:
    if not raw:
        return None
    try:
        data = json.loads(raw)
        return int(data["mtime_ns"]), str(data["relpath"])
    except (ValueError, KeyError, TypeError):
        return None  # an unreadable cursor means a full rescan; the content-hash check prevents duplicates


def format_cursor(mtime_ns: int, relpath: str) -> str:
    return json.dumps({"mtime_ns": mtime_ns, "relpath": relpath})


def ingest_run_requests(batch_ids: list[str], job_name: str) -> list[dg.RunRequest]:
    """One run per upload batch: each batch is materialised when done, fails alone, is retried alone and can run
    beside the others (the ingest queue limits how many at once). The run key makes a re-request a no-op."""
    tags = {"skillatlas/queue": "ingest", "skillatlas/trigger": "inbox_sensor"}
    return [
        dg.RunRequest(run_key=f"ingest:{batch_id}", job_name=job_name, partition_key=batch_id, tags=tags)
        for batch_id in batch_ids
    ]


def build_inbox_sensor(job_name: str = "ingest_batch_job") -> dg.SensorDefinition:
    @dg.sensor(
        name="inbox_sensor",
        job_name=job_name,
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Registers new files in the inbox as upload batches (<= 100 documents) and ingests them.",
    )
    def inbox_sensor(
        context: dg.SensorEvaluationContext, inbox: InboxResource, warehouse: WarehouseResource
    ) -> dg.SensorResult | dg.SkipReason:
        manifest = warehouse.read_table(MANIFEST_TABLE)
        known = dict(zip(manifest["sha256"], manifest["relpath"], strict=True)) if not manifest.empty else {}
        known_hashes = set(known)
        files, skipped = scan_inbox(inbox.root, after=parse_cursor(context.cursor))
        for relpath, reason in skipped[:20]:
            context.log.warning(f"inbox: skipped {relpath}: {reason}")
        plan = plan_batches(files, known_hashes, now=datetime.now(UTC), batch_size=inbox.batch_size)
        # Files seen again under their registered name (e.g. after a cursor reset) are not news; the same
        # content under a new name is a re-upload worth telling the operator about.
        reuploads = [dup for dup in plan.duplicates if known.get(dup.sha256) != dup.relpath]
        for dup in reuploads[:20]:
            context.log.info(
                f"inbox: {dup.relpath} has the same content as {known.get(dup.sha256, 'another new file')}; skipped"
            )

        if plan.batches:
            now = utc_now_iso()
            frame = pd.DataFrame(
                [
                    {
                        "batch_id": batch.batch_id,
                        "doc_id": document_id(f.sha256),
                        "relpath": f.relpath,
                        "kind": f.kind,
                        "sha256": f.sha256,
                        "size_bytes": f.size_bytes,
                        "registered_at": now,
                    }
                    for batch in plan.batches
                    for f in batch.files
                ],
                columns=MANIFEST_COLUMNS,
            )
            new_ids = [batch.batch_id for batch in plan.batches]
            warehouse.replace_rows(MANIFEST_TABLE, frame, {"batch_id": new_ids})

        # The manifest as it now stands: what was read at the start plus this tick's batches (no second read).
        registered = (set(manifest["batch_id"]) if not manifest.empty else set()) | {b.batch_id for b in plan.batches}
        existing = set(context.instance.get_dynamic_partitions(upload_batches.name))
        pending = sorted(registered - existing)

        cursor = context.cursor
        if files:
            last = files[-1]
            cursor = format_cursor(last.mtime_ns, last.relpath)
        if not pending:
            return dg.SensorResult(
                skip_reason=dg.SkipReason(
                    f"no new documents ({len(reuploads)} re-uploads, {len(skipped)} skipped files)"
                ),
                cursor=cursor,
            )
        context.log.info(f"inbox: {len(pending)} new batch(es): {', '.join(pending)}")
        return dg.SensorResult(
            run_requests=ingest_run_requests(pending, job_name),
            dynamic_partitions_requests=[upload_batches.build_add_request(pending)],
            cursor=cursor,
        )

    return inbox_sensor
