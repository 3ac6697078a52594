"""What the operator jobs share: config errors, the extractor set-up, the document selection, and how a job
reports a changed partition. The jobs themselves, one module each:

    jobs/reextract.py     reextract_job             re-run skill extraction over stored document text
    jobs/retry_failed.py  retry_failed_items_job    re-process only the open failed items of runs / batches
    jobs/rollback.py      rollback_extraction_job   restore a batch's previous extraction
    jobs/undo_merge.py    undo_skill_merge_job      reverse a near-duplicate skill merge

Each job is one op with `dg.Config` run config, validated with specific messages before anything is written.
Every write is one warehouse transaction (`skillatlas.store.batches`), so a crash or a dropped database
connection leaves the old rows or the new rows, never a mix; the ops carry a step `RetryPolicy` for such
transient failures, and their writes are idempotent under a retry of the same run. Each changed partition is
reported with an `AssetMaterialization`, so the asset's history in the UI shows who changed it and why.
"""

from collections.abc import Sequence
from typing import Any

import dagster as dg
import pandas as pd

from assets.documents import STEP_RETRY
from assets.partitions import checked_keys
from resources.warehouse import WarehouseResource
from skillatlas.ingest.batches import skill_rows
from skillatlas.store.tables import DOCUMENT_SKILLS, DOCUMENT_TEXT

__all__ = [
    "KINDS", "OPERATOR_TAGS", "SUMMARY_OUT", "check_selection", "checked_keys", "config_error", "document_skills_of",
    "extract_rows", "operator_job", "operator_op", "report_change", "selected_text",
]

KINDS = ("course", "job")
OPERATOR_TAGS = {"skillatlas/operator": "true"}
# The ops report through metadata and materialization events; their output is Nothing, so it never goes
# through the warehouse IO manager (which stores DataFrames only).
SUMMARY_OUT = dg.Out(dg.Nothing, description="summary in the output metadata")


def operator_op(queue: str) -> Any:
    """The `@dg.op` decorator of an operator job's op: its run queue, the step retry policy of the document
    assets (transient database or I/O failures), and a Nothing output (the summary is output metadata)."""
    return dg.op(tags={"skillatlas/queue": queue}, retry_policy=STEP_RETRY, out=SUMMARY_OUT)


def operator_job(op: dg.OpDefinition, queue: str, description: str, name: str = "") -> dg.JobDefinition:
    """A one-op operator job (named `<op>_job` unless `name` is given), launched from the UI with the op's run
    config."""

    @dg.job(name=name or f"{op.name}_job", tags={"skillatlas/queue": queue, **OPERATOR_TAGS}, description=description)
    def job() -> None:
        op()

    return job


def config_error(message: str) -> dg.Failure:
    """A configuration or state error: retrying the step cannot help."""
    return dg.Failure(description=message, allow_retries=False)


def extract_rows(engine: Any, version: str, doc: Any) -> list[dict[str, object]]:
    """The `document_skills` rows of one document (`doc` has batch_id, doc_id, kind, text)."""
    return skill_rows(doc, engine.extract(doc.text), version)


def check_selection(kinds: Sequence[str], limit: int | None, batch_ids: Sequence[str]) -> list[str]:
    """Validate a document selection (kinds, limit, batch ids) of run config; returns the checked batch ids."""
    if limit is not None and limit < 1:
        raise config_error(f"limit must be >= 1 (or unset for all documents), got {limit}")
    bad_kinds = sorted(set(kinds) - set(KINDS))
    if bad_kinds:
        raise config_error(f"unknown document kind(s) {bad_kinds}: kinds are {', '.join(KINDS)}")
    return checked_keys(batch_ids, "batch id")


def selected_text(warehouse: WarehouseResource, batch_ids: Sequence[str], kinds: Sequence[str]) -> pd.DataFrame:
    """The `document_text` rows of these batches and kinds (all when empty)."""
    where: dict[str, Any] = {}
    if batch_ids:
        where["batch_id"] = list(batch_ids)
    if kinds:
        where["kind"] = list(kinds)
    return warehouse.read_table(DOCUMENT_TEXT, where)


def document_skills_of(warehouse: WarehouseResource, text: pd.DataFrame) -> pd.DataFrame:
    """The current `document_skills` rows of the documents in `text`."""
    return warehouse.read_table(DOCUMENT_SKILLS, {"doc_id": list(text["doc_id"])}) if len(text) else pd.DataFrame()


def report_change(
    context: dg.OpExecutionContext, asset: str, partition: str | None, metadata: dict[str, Any]
) -> None:
    """An operator job changed `asset` (a partition of it): a materialization naming the job and run."""
    context.log_event(
        dg.AssetMaterialization(
            asset_key=asset,
            partition=partition,
            description=f"changed by {context.job_name} (run {context.run_id[:8]})",
            metadata={**metadata, "operator_job": context.job_name, "run_id": context.run_id},
        )
    )
