"""Inbox sensor: new uploads become batches (dynamic partitions), one ingest run per batch.

Every tick compares the inbox with the manifest (skillatlas.ingest.inbox): nothing depends on a watermark, so a file
copied with an old mtime is found like any other, and a tick over 100,000 registered files hashes nothing.

Exactly-once registration, even if the sensor dies midway:
1. quiet new or changed files are hashed; content another path already holds is a re-upload (recorded once in
   `skipped_uploads`, never re-processed); new bytes at a registered path are a new version of that document;
2. the manifest rows, the refreshed mtimes of touched files and the new refusal records are committed in one
   transaction *before* any partition is requested;
3. every tick requests the batches that are in the manifest but not yet a partition, so a tick that crashed
   between step 2 and the partition request loses nothing. One run per batch (run key `ingest:<batch>`):
   the batch is the unit of work, retried and reported on its own.

One bad entry (symlink loop, FIFO, a name that is not UTF-8, ...) is one refusal record and one log line, never a
failed tick. Partition keys that are not batch ids (added by hand through the UI or GraphQL) are removed with
a warning before anything else. On a fresh deployment (no `skill_taxonomy` in the warehouse) the sensor
requests `reference_job` and holds ingest runs until the reference data exists.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime

import dagster as dg
import pandas as pd
import sqlalchemy as sa

from assets.partitions import UPLOAD_BATCHES, upload_batches
from resources.inbox import InboxResource
from resources.warehouse import WarehouseResource, reflect_table, utc_now_iso, write_frame
from sensors.common import polling_sensor
from skillatlas.ingest.inbox import (
    Refusal,
    TickPlan,
    current_versions,
    document_id,
    is_batch_id,
    plan_tick,
    quiet_refusals,
    scan_inbox,
)
from skillatlas.store.tables import (
    DOCUMENT_TEXT,
    MANIFEST_COLUMNS,
    SKILL_TAXONOMY,
    SKIPPED_UPLOAD_COLUMNS,
    SKIPPED_UPLOADS,
    UPLOAD_MANIFEST,
)

REFERENCE_JOB = "reference_job"
ACTIVE_STATUSES = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]
LOG_LIMIT = 50  # per tick and kind of message; the tables hold every row


def ingest_run_request(batch_id: str, job_name: str) -> dg.RunRequest:
    """One run per upload batch: the batch is the unit of work (issue 9)."""
    return dg.RunRequest(
        run_key=f"ingest:{batch_id}",
        job_name=job_name,
        partition_key=batch_id,
        tags={"skillatlas/queue": "ingest", "skillatlas/trigger": "inbox_sensor"},
    )


def ensure_manifest_columns(warehouse: WarehouseResource) -> None:
    """Manifests written before mtimes were recorded gain the column (NULL: those files are hashed once)."""
    with warehouse.engine.begin() as conn:
        table = reflect_table(conn, UPLOAD_MANIFEST)
        if table is not None and "mtime_ns" not in table.c:
            column = conn.dialect.identifier_preparer.quote("mtime_ns")
            name = conn.dialect.identifier_preparer.quote(UPLOAD_MANIFEST)
            conn.execute(sa.text(f"ALTER TABLE {name} ADD COLUMN {column} BIGINT"))


def manifest_frame(plan: TickPlan, now: str) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "batch_id": batch.batch_id,
                "doc_id": document_id(f.sha256),
                "relpath": f.relpath,
                "kind": f.kind,
                "sha256": f.sha256,
                "size_bytes": f.size_bytes,
                "mtime_ns": f.mtime_ns,
                "registered_at": now,
            }
            for batch in plan.batches
            for f in batch.files
        ],
        columns=MANIFEST_COLUMNS,
    ).astype({"size_bytes": "int64", "mtime_ns": "int64"})


def refusal_frame(refusals: Sequence[Refusal], now: str) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "relpath": r.relpath,
                "reason_kind": r.reason_kind,
                "reason": r.reason,
                "size_bytes": r.size_bytes,
                "mtime_ns": r.mtime_ns,
                "ctime_ns": r.ctime_ns,
                "sha256": r.sha256 or "",
                "first_seen_at": now,
                "last_seen_at": now,
            }
            for r in refusals
        ],
        columns=SKIPPED_UPLOAD_COLUMNS,
    ).astype({"size_bytes": "int64", "mtime_ns": "int64", "ctime_ns": "int64"})


def commit_tick(
    warehouse: WarehouseResource, plan: TickPlan, new: Sequence[Refusal], seen_again: Sequence[Refusal]
) -> None:
    """Manifest rows, touched files' new mtimes and refusal records: one transaction."""
    now = utc_now_iso()
    with warehouse.engine.begin() as conn:
        if plan.batches:
            write_frame(conn, UPLOAD_MANIFEST, manifest_frame(plan, now))
        manifest = reflect_table(conn, UPLOAD_MANIFEST)
        if plan.touched and manifest is not None:
            conn.execute(
                sa.update(manifest)
                .where(manifest.c.batch_id == sa.bindparam("b"), manifest.c.relpath == sa.bindparam("r"))
                .values(size_bytes=sa.bindparam("s"), mtime_ns=sa.bindparam("m")),
                [{"b": b, "r": r, "s": s, "m": m} for b, r, s, m in plan.touched],
            )
        if new:
            write_frame(conn, SKIPPED_UPLOADS, refusal_frame(new, now))
        skipped = reflect_table(conn, SKIPPED_UPLOADS)
        if seen_again and skipped is not None:
            # same path, same reason, new size/mtime: refresh the fingerprint so the file is not hashed again
            conn.execute(
                sa.update(skipped)
                .where(skipped.c.relpath == sa.bindparam("r"), skipped.c.reason_kind == sa.bindparam("k"))
                .values(
                    size_bytes=sa.bindparam("s"), mtime_ns=sa.bindparam("m"), ctime_ns=sa.bindparam("c"),
                    last_seen_at=now,
                ),
                [
                    {"r": x.relpath, "k": x.reason_kind, "s": x.size_bytes, "m": x.mtime_ns, "c": x.ctime_ns}
                    for x in seen_again
                ],
            )


def recorded_refusals(skipped: pd.DataFrame) -> tuple[dict[str, tuple[int, int, int]], dict[tuple[str, str], tuple]]:
    """(relpath -> fingerprint of its latest record, (relpath, kind) -> fingerprint)."""
    if skipped.empty:
        return {}, {}
    latest = skipped.sort_values("last_seen_at", kind="stable").drop_duplicates("relpath", keep="last")
    by_path = {
        r: (int(s), int(m), int(c))
        for r, s, m, c in zip(
            latest["relpath"], latest["size_bytes"], latest["mtime_ns"], latest["ctime_ns"], strict=True
        )
    }
    by_kind = {
        (r, k): (int(s), int(m), int(c))
        for r, k, s, m, c in zip(
            skipped["relpath"], skipped["reason_kind"], skipped["size_bytes"], skipped["mtime_ns"], skipped["ctime_ns"],
            strict=True,
        )
    }
    return by_path, by_kind


def refusal_observation(new: Sequence[Refusal]) -> dg.AssetObservation:
    lines = [f"| `{r.relpath}` | {r.reason_kind} | {r.reason} |" for r in new[:LOG_LIMIT]]
    return dg.AssetObservation(
        asset_key=DOCUMENT_TEXT,
        metadata={
            "newly_refused_uploads": len(new),
            "table": SKIPPED_UPLOADS,
            "refused": dg.MetadataValue.md("| path | kind | reason |\n| --- | --- | --- |\n" + "\n".join(lines)),
        },
    )


def reference_gate(
    context: dg.SensorEvaluationContext, warehouse: WarehouseResource
) -> tuple[list[dg.RunRequest], str | None]:
    """On an instance whose warehouse has no taxonomy yet: ([reference run], reason ingest is held).
    ([], None) once the reference data exists."""
    if warehouse.has_table(SKILL_TAXONOMY):
        return [], None
    active = context.instance.get_run_records(
        filters=dg.RunsFilter(job_name=REFERENCE_JOB, statuses=ACTIVE_STATUSES), limit=1
    )
    if active:
        return [], f"ingest held: waiting for {REFERENCE_JOB} run {active[0].dagster_run.run_id[:8]} (reference data)"
    last = context.instance.get_run_records(filters=dg.RunsFilter(job_name=REFERENCE_JOB), limit=1)
    if last and last[0].dagster_run.status == dg.DagsterRunStatus.FAILURE:
        # no retry storm: one failed bootstrap is the operator's to look at
        return [], (
            f"ingest held: {REFERENCE_JOB} run {last[0].dagster_run.run_id[:8]} failed and the warehouse has no "
            f"{SKILL_TAXONOMY}; fix it and launch {REFERENCE_JOB}"
        )
    context.log.info(f"inbox: no {SKILL_TAXONOMY} in the warehouse (fresh deployment): requesting {REFERENCE_JOB}")
    request = dg.RunRequest(
        job_name=REFERENCE_JOB,
        tags={"skillatlas/queue": "reference", "skillatlas/trigger": "inbox_sensor_bootstrap"},
    )
    return [request], f"ingest held until {REFERENCE_JOB} has built the reference data"


def build_inbox_sensor(
    ingest_job: dg.UnresolvedAssetJobDefinition, reference_job: dg.UnresolvedAssetJobDefinition
) -> dg.SensorDefinition:
    @polling_sensor(
        "inbox_sensor",
        "Registers new and changed files in the inbox as upload batches (<= 100 documents), one ingest run "
        "per batch; records refused files in skipped_uploads; bootstraps reference data on a fresh instance.",
        jobs=[ingest_job, reference_job],
    )
    def inbox_sensor(
        context: dg.SensorEvaluationContext, inbox: InboxResource, warehouse: WarehouseResource
    ) -> dg.SensorResult:
        partition_requests: list[dg.AddDynamicPartitionsRequest | dg.DeleteDynamicPartitionsRequest] = []
        existing = context.instance.get_dynamic_partitions(UPLOAD_BATCHES)
        hostile = [key for key in existing if not is_batch_id(key)]
        if hostile:
            for key in hostile[:LOG_LIMIT]:
                context.log.warning(
                    f"inbox: removing partition key {key[:80]!r}{'...' if len(key) > 80 else ''} "
                    f"({len(key)} characters): not an upload batch id (b<YYYYMMDD>-<HHMMSS>-<seq>-<hash6>)"
                )
            partition_requests.append(upload_batches.build_delete_request(hostile))

        ensure_manifest_columns(warehouse)
        manifest = warehouse.read_table(UPLOAD_MANIFEST)
        by_path, by_kind = recorded_refusals(warehouse.read_table(SKIPPED_UPLOADS))
        now_ns = time.time_ns()
        quiet_ns = int(inbox.quiet_seconds * 1e9)
        scan = scan_inbox(inbox.root, max_file_bytes=inbox.max_file_bytes)
        plan = plan_tick(
            scan.entries, current_versions(manifest), by_path,
            now_ns=now_ns, quiet_ns=quiet_ns, now=datetime.now(UTC), batch_size=inbox.batch_size,
            inbox_root=inbox.root,
        )
        refusals = quiet_refusals(scan.refused, now_ns=now_ns, quiet_ns=quiet_ns) + plan.refused
        new = [r for r in refusals if (r.relpath, r.reason_kind) not in by_kind]
        seen_again = [
            r for r in refusals
            if (r.relpath, r.reason_kind) in by_kind
            and by_kind[(r.relpath, r.reason_kind)] != (r.size_bytes, r.mtime_ns, r.ctime_ns)
        ]
        commit_tick(warehouse, plan, new, seen_again)
        for refusal in new[:LOG_LIMIT]:
            context.log.warning(f"inbox: refused {refusal.relpath}: {refusal.reason} [{refusal.reason_kind}]")
        if len(new) > LOG_LIMIT:
            context.log.warning(f"inbox: {len(new) - LOG_LIMIT} more refusals, see table {SKIPPED_UPLOADS}")
        for relpath, old_batch in list(plan.superseding.items())[:LOG_LIMIT]:
            context.log.info(f"inbox: {relpath} changed: new version supersedes the one of batch {old_batch}")

        registered = (set(manifest["batch_id"]) if not manifest.empty else set()) | {b.batch_id for b in plan.batches}
        pending = sorted(key for key in registered - set(existing) if is_batch_id(key))
        summary = (
            f"{plan.unchanged} unchanged, {len(plan.settling)} still being written, {len(plan.touched)} touched, "
            f"{len(new)} newly refused"
        )
        # new refusals also show on the document_text asset page in the UI (Events: observations)
        events = [refusal_observation(new)] if new else []
        bootstrap, held = reference_gate(context, warehouse)
        if held is not None:
            return dg.SensorResult(
                run_requests=bootstrap,
                dynamic_partitions_requests=partition_requests,
                asset_events=events,
                skip_reason=None if bootstrap else dg.SkipReason(f"{held}; {len(pending)} batch(es) waiting"),
            )
        if not pending:
            return dg.SensorResult(
                dynamic_partitions_requests=partition_requests,
                asset_events=events,
                skip_reason=dg.SkipReason(f"no new documents ({summary})"),
            )
        context.log.info(f"inbox: {len(pending)} new batch(es) ({summary}): {', '.join(pending)}")
        partition_requests.append(upload_batches.build_add_request(pending))
        return dg.SensorResult(
            run_requests=[ingest_run_request(key, ingest_job.name) for key in pending],
            dynamic_partitions_requests=partition_requests,
            asset_events=events,
        )

    return inbox_sensor
