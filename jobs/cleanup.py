"""Weekly cleanup: orphaned upload batches and rows that outlived their partition."""

import dagster as dg
from pydantic import Field

from assets.partitions import UPLOAD_BATCHES
from resources.warehouse import WarehouseResource
from skillatlas.store.tables import DOCUMENT_SKILLS, DOCUMENT_TEXT, ITEM_FAILURES, UPLOAD_MANIFEST

BATCH_TABLES = (DOCUMENT_TEXT, DOCUMENT_SKILLS, ITEM_FAILURES)


class CleanupConfig(dg.Config):
    dry_run: bool = Field(
        default=False,
        description="Report what would be removed (orphaned partitions, stale rows) in the step's metadata; "
        "change nothing.",
    )


@dg.op(tags={"skillatlas/queue": "reference"}, out=dg.Out(dg.Nothing))
def remove_orphaned_batches(
    context: dg.OpExecutionContext, config: CleanupConfig, warehouse: WarehouseResource
) -> None:
    """Batches registered as partitions with no manifest rows (e.g. a manifest restored from backup) are
    removed from the partition list; rows in batch tables whose batch is no longer a partition are deleted."""
    partitions = set(context.instance.get_dynamic_partitions(UPLOAD_BATCHES))
    manifest = warehouse.read_table(UPLOAD_MANIFEST)
    registered = set(manifest["batch_id"]) if not manifest.empty else set()
    orphan_partitions = sorted(partitions - registered)
    removed_rows = 0
    stale_batches: dict[str, list[str]] = {}
    for table in BATCH_TABLES:
        frame = warehouse.read_table(table)
        column = "partition" if table == ITEM_FAILURES else "batch_id"
        if frame.empty or column not in frame.columns:
            continue
        stale = sorted(set(frame[column].dropna()) - (partitions - set(orphan_partitions)))
        if table == ITEM_FAILURES:
            stale = [key for key in stale if key in registered or key in orphan_partitions]
        if stale:
            stale_batches[table] = stale
            removed_rows += int(frame[column].isin(stale).sum())
    context.log.info(
        f"orphaned partitions: {orphan_partitions}; stale rows: {removed_rows} in {list(stale_batches)}"
        + (" (dry run)" if config.dry_run else "")
    )
    if not config.dry_run:
        for table, keys in stale_batches.items():
            column = "partition" if table == ITEM_FAILURES else "batch_id"
            warehouse.replace_rows(table, warehouse.read_table(table).iloc[0:0], {column: keys})
        for key in orphan_partitions:
            context.instance.delete_dynamic_partition(UPLOAD_BATCHES, key)
    # Nothing output (no IO manager involved): the figures go to the step's metadata in the UI.
    context.add_output_metadata(
        {"orphaned_partitions": len(orphan_partitions), "stale_rows": removed_rows, "dry_run": config.dry_run}
    )


@dg.job(tags={"skillatlas/queue": "reference"}, description="Weekly: remove orphaned batches and stale rows.")
def cleanup_job() -> None:
    remove_orphaned_batches()
