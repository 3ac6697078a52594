"""Writing one upload batch's outcome to the warehouse: pure domain code (SQLAlchemy Core, no Dagster).

Every function is one transaction, or runs inside the caller's: a crash or a dropped connection leaves the old
rows or the new rows, never a mix. The document assets commit whole batches (`commit_batch`); the operator jobs
replace some documents' rows (`replace_skill_rows`, `recover_item`, `restore_extraction`); all of them archive a
batch's extraction first with the one `archive_extraction`, so the rollback job can restore it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import sqlalchemy as sa

from skillatlas.ingest.batches import BatchResult, ItemFailure
from skillatlas.store.sql import delete_rows, read_rows, utc_now_iso, write_frame
from skillatlas.store.tables import (
    BATCH_COMMIT_COLUMNS,
    BATCH_COMMITS,
    DOCUMENT_SKILLS,
    DOCUMENT_SKILLS_HISTORY,
    DOCUMENT_TEXT,
    ITEM_FAILURE_HISTORY,
    ITEM_FAILURES,
    LEDGER_COLUMNS,
    TEXT_COLUMNS,
    UPLOAD_MANIFEST,
)

__all__ = [
    "BatchInputMissing",
    "archive_batches",
    "archive_extraction",
    "commit_batch",
    "failures_frame",
    "is_current",
    "load_extraction_inputs",
    "load_manifest",
    "previous_commits",
    "recover_item",
    "replace_skill_rows",
    "restore_extraction",
    "update_ledger",
]

# the columns of document_text that extraction reads (never the whole row set of a big batch's other columns)
EXTRACTION_INPUT_COLUMNS = ["batch_id", "doc_id", "relpath", "kind", "sha256", "text"]


class BatchInputMissing(Exception):
    """The batch has nothing to work on (e.g. no manifest rows): a permanent error of that batch alone."""


def _never_registered(batch_id: str) -> BatchInputMissing:
    return BatchInputMissing(
        f"no manifest rows for batch {batch_id}: the batch was never registered by the inbox sensor"
    )


# ------------------------------------------------------------------------------------------- inputs


def load_manifest(engine: sa.Engine, batch_id: str) -> pd.DataFrame:
    """The batch's manifest rows (what `document_text` parses); BatchInputMissing when it has none."""
    with engine.connect() as conn:
        manifest = read_rows(conn, UPLOAD_MANIFEST, {"batch_id": batch_id})
    if manifest.empty:
        raise _never_registered(batch_id)
    return manifest


def load_extraction_inputs(engine: sa.Engine, batch_id: str) -> pd.DataFrame:
    """The batch's `document_text` rows that extraction reads. Empty when every file failed to parse;
    BatchInputMissing when the batch was never registered at all."""
    with engine.connect() as conn:
        docs = read_rows(conn, DOCUMENT_TEXT, {"batch_id": batch_id}, columns=EXTRACTION_INPUT_COLUMNS)
        if docs.empty and not read_rows(conn, UPLOAD_MANIFEST, {"batch_id": batch_id}, columns=["doc_id"]).size:
            raise _never_registered(batch_id)
    return docs


# ------------------------------------------------------------------------------------------- ledger


def failures_frame(asset: str, run_id: str, failures: Sequence[ItemFailure]) -> pd.DataFrame:
    """The `item_failures` rows of `failures` (messages cut at 2,000 characters)."""
    now = utc_now_iso()
    rows = [
        {
            "asset": asset,
            "partition": f.partition,
            "item": f.item,
            "error_kind": f.error_kind,
            "message": f.message[:2000],
            "transient": bool(f.transient),
            "attempts": int(f.attempts),
            "run_id": run_id,
            "failed_at": now,
        }
        for f in failures
    ]
    return pd.DataFrame(rows, columns=LEDGER_COLUMNS)


def update_ledger(conn: sa.Connection, frame: pd.DataFrame) -> None:
    """Inside the caller's transaction: replace the ledger rows of each (asset, partition, item) in `frame`
    with `frame`'s, and keep them in the history."""
    # one delete per (asset, partition), not per row: each delete reflects the table first
    for (asset, partition), group in frame.groupby(["asset", "partition"], sort=False, dropna=False):
        delete_rows(conn, ITEM_FAILURES, {"asset": asset, "partition": partition, "item": group["item"].tolist()})
    write_frame(conn, ITEM_FAILURES, frame)
    write_frame(conn, ITEM_FAILURE_HISTORY, frame)


# ------------------------------------------------------------------------------------------- batch commits


def previous_commits(engine: sa.Engine, table: str, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The `batch_commits` record of each of `keys` already committed for `table`, by batch id."""
    with engine.connect() as conn:
        commits = read_rows(conn, BATCH_COMMITS, {"asset": table, "batch_id": list(keys)})
    return {str(row["batch_id"]): row for row in commits.to_dict("records")}


def is_current(previous: Mapping[str, Any] | None, version: str, fingerprint: str) -> bool:
    """Whether a batch's commit record was made by `version` from the same input (so it can be skipped)."""
    return previous is not None and previous["version"] == version and previous["fingerprint"] == fingerprint


def commit_batch(
    engine: sa.Engine,
    table: str,
    columns: Sequence[str],
    result: BatchResult,
    *,
    version: str,
    fingerprint: str,
    run_id: str,
    metadata: Mapping[str, Any],
) -> None:
    """The batch's rows, its open ledger rows and its commit record, in one transaction: all or nothing."""
    rows = pd.DataFrame(result.rows, columns=list(columns))
    ledger = failures_frame(table, run_id, result.failures)
    plain = {k: v for k, v in metadata.items() if isinstance(v, int | float | str)}
    commit = pd.DataFrame(
        [
            {
                "asset": table,
                "batch_id": result.batch_id,
                "version": version,
                "fingerprint": fingerprint,
                "run_id": run_id,
                "committed_at": utc_now_iso(),
                "processed": result.processed,
                "succeeded": result.succeeded,
                "failed": result.failed,
                "row_count": len(result.rows),
                "metadata": pd.Series(plain).to_json(),
            }
        ],
        columns=BATCH_COMMIT_COLUMNS,
    )
    with engine.begin() as conn:
        delete_rows(conn, table, {"batch_id": result.batch_id})
        write_frame(conn, table, rows)
        delete_rows(conn, ITEM_FAILURES, {"asset": table, "partition": result.batch_id})
        write_frame(conn, ITEM_FAILURES, ledger)
        if not ledger.empty:
            write_frame(conn, ITEM_FAILURE_HISTORY, ledger)
        delete_rows(conn, BATCH_COMMITS, {"asset": table, "batch_id": result.batch_id})
        write_frame(conn, BATCH_COMMITS, commit)


# ------------------------------------------------------------------------------------------- extraction archive


def archive_extraction(conn: sa.Connection, batch_ids: Sequence[str], run_id: str) -> int:
    """Inside the caller's transaction: copy the batches' current `document_skills` rows to
    `document_skills_history` under `run_id`, before they are replaced, so the rollback job can restore them.
    First write wins per (run, batch): a retried step of the same run, which may already have replaced some
    batches, keeps the archive of the rows from before the run. Returns the number of rows archived."""
    archived = read_rows(
        conn, DOCUMENT_SKILLS_HISTORY, {"batch_id": list(batch_ids), "archived_by_run": run_id}, columns=["batch_id"]
    )
    todo = sorted(set(batch_ids) - set(archived["batch_id"]))
    if not todo:
        return 0
    current = read_rows(conn, DOCUMENT_SKILLS, {"batch_id": todo})
    if current.empty:
        return 0
    write_frame(conn, DOCUMENT_SKILLS_HISTORY, current.assign(archived_by_run=run_id, archived_at=utc_now_iso()))
    return len(current)


def archive_batches(engine: sa.Engine, batch_ids: Sequence[str], run_id: str) -> int:
    """`archive_extraction` in a transaction of its own (the document asset, before its first commit)."""
    with engine.begin() as conn:
        return archive_extraction(conn, batch_ids, run_id)


def replace_skill_rows(
    engine: sa.Engine, batch_id: str, doc_ids: Sequence[str], rows: pd.DataFrame, run_id: str
) -> int:
    """Archive the batch's extraction, then replace the skill rows of `doc_ids` with `rows`, in one transaction.
    Returns the number of rows archived."""
    with engine.begin() as conn:
        archived = archive_extraction(conn, [batch_id], run_id)
        delete_rows(conn, DOCUMENT_SKILLS, {"batch_id": batch_id, "doc_id": list(doc_ids)})
        write_frame(conn, DOCUMENT_SKILLS, rows)
    return archived


def restore_extraction(engine: sa.Engine, batch_id: str, restore: pd.DataFrame, run_id: str) -> tuple[int, int]:
    """Replace the batch's skill rows with `restore` (rows of an archive), archiving the current rows under
    `run_id` first, in one transaction (so a rollback can itself be rolled back).
    Returns (rows before, rows archived)."""
    with engine.begin() as conn:
        current = read_rows(conn, DOCUMENT_SKILLS, {"batch_id": batch_id})
        archived = archive_extraction(conn, [batch_id], run_id)
        delete_rows(conn, DOCUMENT_SKILLS, {"batch_id": batch_id})
        columns = list(current.columns) if not current.empty else list(restore.columns)
        write_frame(conn, DOCUMENT_SKILLS, restore[[c for c in columns if c in restore.columns]])
    return len(current), archived


def recover_item(
    engine: sa.Engine,
    batch_id: str,
    relpath: str,
    text_row: Mapping[str, object] | None,
    doc_id: str,
    skills: pd.DataFrame,
    retryable_assets: Sequence[str],
) -> None:
    """A failed item that now succeeds: its text row (when it was re-parsed) and skill rows replace the old
    ones, and its open ledger rows close, in one transaction."""
    with engine.begin() as conn:
        if text_row is not None:
            delete_rows(conn, DOCUMENT_TEXT, {"doc_id": doc_id})
            write_frame(conn, DOCUMENT_TEXT, pd.DataFrame([dict(text_row)], columns=TEXT_COLUMNS))
        delete_rows(conn, DOCUMENT_SKILLS, {"doc_id": doc_id})
        write_frame(conn, DOCUMENT_SKILLS, skills)
        delete_rows(conn, ITEM_FAILURES, {"partition": batch_id, "item": relpath, "asset": list(retryable_assets)})
