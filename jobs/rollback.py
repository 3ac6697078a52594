"""rollback_extraction_job: restore a batch's previous skill extraction from `document_skills_history`.

The current rows are archived first, in the same transaction (`skillatlas.store.batches.restore_extraction`), so
a rollback can itself be rolled back. Shared helpers: `jobs.operator`.
"""

from typing import Any

import dagster as dg
import pandas as pd
from pydantic import Field

from jobs.operator import checked_keys, config_error, operator_job, operator_op, report_change
from resources.warehouse import WarehouseResource
from skillatlas.store.batches import restore_extraction
from skillatlas.store.tables import DOCUMENT_SKILLS, DOCUMENT_SKILLS_HISTORY


class RollbackConfig(dg.Config):
    batch_id: str = Field(description="The upload batch (partition key) whose previous extraction is restored.")
    archived_by_run: str = Field(
        default="",
        description="Restore the version archived by this run (column archived_by_run of "
        "document_skills_history); empty for the most recent archive.",
    )


def pick_archive(history: pd.DataFrame, order: dict[str, float], archived_by_run: str = "") -> str:
    """The run id of the archive to restore: the one asked for, or the most recent (by archive time, then by
    the archiving run's creation time, since archive stamps have one-second resolution)."""
    runs = history.groupby("archived_by_run")["archived_at"].max()
    if archived_by_run:
        if archived_by_run not in runs.index:
            raise KeyError(archived_by_run)
        return archived_by_run
    return max(runs.index, key=lambda run: (str(runs[run]), order.get(str(run), 0.0)))


@operator_op("extraction")
def rollback_extraction(
    context: dg.OpExecutionContext, config: RollbackConfig, warehouse: WarehouseResource
) -> dg.Output[None]:
    """Restore a batch's previous extraction from `document_skills_history`; the current rows are archived
    first, in the same transaction (so a rollback can itself be rolled back)."""
    (batch_id,) = checked_keys([config.batch_id], "batch id")
    history = warehouse.read_table(DOCUMENT_SKILLS_HISTORY, {"batch_id": batch_id})
    if not history.empty:
        # rows this run archived (a retried step) are the rows it replaced, not a version to restore
        history = history[history["archived_by_run"] != context.run_id]
    if history.empty:
        raise config_error(
            f"batch {batch_id} has no archived extraction in {DOCUMENT_SKILLS_HISTORY}: nothing to roll back to "
            "(an archive is written when a batch's skills are re-extracted)"
        )
    order = {}
    for run in history["archived_by_run"].unique():
        record = context.instance.get_run_record_by_id(str(run))
        order[str(run)] = record.create_timestamp.timestamp() if record is not None else 0.0
    try:
        source_run = pick_archive(history, order, config.archived_by_run)
    except KeyError:
        versions = sorted(set(history["archived_by_run"]))
        raise config_error(
            f"batch {batch_id} has no archive by run {config.archived_by_run!r}; archives: {versions}"
        ) from None
    restore = history[history["archived_by_run"] == source_run].drop(columns=["archived_by_run", "archived_at"])
    rows_before, archived = restore_extraction(warehouse.engine, batch_id, restore, context.run_id)
    summary: dict[str, Any] = {
        "batch_id": batch_id,
        "restored_from_run": str(source_run),
        "rows_before": rows_before,
        "rows_restored": len(restore),
        "rows_archived": archived,
    }
    report_change(context, DOCUMENT_SKILLS, batch_id, {k: v for k, v in summary.items() if k != "batch_id"})
    context.log.info(f"rolled back {batch_id}: {summary}")
    return dg.Output(None, metadata=summary)


rollback_extraction_job = operator_job(rollback_extraction, "extraction", description=(
    "Restore a batch's previous skill extraction from document_skills_history."
))
