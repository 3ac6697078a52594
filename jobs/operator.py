"""Operator jobs: re-extract, retry failed items, roll an extraction back, undo a skill merge.

Each job is one op with `dg.Config` run config, validated with specific messages before anything is written.
Every write is one warehouse transaction (`engine.begin()`), so a crash or a dropped database connection leaves
the old rows or the new rows, never a mix; the ops carry a step `RetryPolicy` for such transient failures, and
their writes are idempotent under a retry of the same run. Each changed partition is reported with an
`AssetMaterialization`, so the asset's history in the UI shows who changed it and why.
"""

from collections import Counter
from collections.abc import Iterable, Sequence
from types import SimpleNamespace
from typing import Any

import dagster as dg
import pandas as pd
import sqlalchemy as sa
from pydantic import Field

from assets.documents import (
    HISTORY_TABLE,
    MANIFEST_TABLE,
    SKILL_COLUMNS,
    STEP_RETRY,
    TEXT_COLUMNS,
)
from assets.ledger import HISTORY_TABLE as LEDGER_HISTORY_TABLE
from assets.ledger import LEDGER_TABLE, failures_frame
from assets.ledger import ItemFailure as LedgerItem
from resources.artifacts import ArtifactStore
from resources.extractor import ExtractorResource
from resources.inbox import InboxResource
from resources.warehouse import (
    WarehouseResource,
    delete_rows,
    read_rows,
    reflect_table,
    utc_now_iso,
    write_frame,
)
from skillatlas.errors import ItemError, classify_exception
from skillatlas.ingest.batches import skill_rows, text_row
from skillatlas.ingest.parsing import parse_document
from skillatlas.ingest.validation import validate_partition_key

SKILLS_TABLE = "document_skills"
TEXT_TABLE = "document_text"
MERGE_MAP_TABLE = "skill_merge_map"
KINDS = ("course", "job")
RETRYABLE_ASSETS = (TEXT_TABLE, SKILLS_TABLE)


# ------------------------------------------------------------------------------------------------------
# shared helpers
# ------------------------------------------------------------------------------------------------------


def _fail(message: str) -> dg.Failure:
    """A configuration or state error: retrying the step cannot help."""
    return dg.Failure(description=message, allow_retries=False)


def _checked_keys(keys: Iterable[str], what: str) -> list[str]:
    out = []
    for key in keys:
        try:
            out.append(validate_partition_key(key))
        except ValueError as exc:
            raise _fail(f"bad {what}: {exc}") from exc
    return out


def _archive_batch(conn: sa.Connection, batch_id: str, run_id: str) -> int:
    """Inside the caller's transaction: copy the batch's current skill rows to the history table under this
    run. First write wins: a retried step of the same run keeps the archive of the rows before the run."""
    history = reflect_table(conn, HISTORY_TABLE)
    if history is not None:
        exists = conn.execute(
            sa.select(sa.func.count()).select_from(history).where(
                history.c.batch_id == batch_id, history.c.archived_by_run == run_id
            )
        ).scalar_one()
        if exists:
            return 0
    current = read_rows(conn, SKILLS_TABLE, {"batch_id": batch_id})
    if current.empty:
        return 0
    write_frame(conn, HISTORY_TABLE, current.assign(archived_by_run=run_id, archived_at=utc_now_iso()))
    return len(current)


def _skill_rows(engine: Any, version: str, doc: Any) -> list[dict[str, object]]:
    return skill_rows(doc, engine.extract(doc.text), version)


def _signature(rows: pd.DataFrame) -> set[tuple[Any, ...]]:
    if rows.empty:
        return set()
    return {
        (r.skill_id, round(float(r.confidence), 4), r.method, int(r.evidence_start), int(r.evidence_end),
         r.extractor_version)
        for r in rows.itertuples(index=False)
    }


def _ledger_update(conn: sa.Connection, frame: pd.DataFrame) -> None:
    """Replace the ledger rows of (asset, partition, item) with `frame` and keep the history."""
    for row in frame.itertuples(index=False):
        delete_rows(conn, LEDGER_TABLE, {"asset": row.asset, "partition": row.partition, "item": row.item})
    write_frame(conn, LEDGER_TABLE, frame)
    write_frame(conn, LEDGER_HISTORY_TABLE, frame)


def _materialize(
    context: dg.OpExecutionContext, asset: str, partition: str | None, metadata: dict[str, Any]
) -> None:
    context.log_event(
        dg.AssetMaterialization(
            asset_key=asset,
            partition=partition,
            description=f"changed by {context.job_name} (run {context.run_id[:8]})",
            metadata={**metadata, "operator_job": context.job_name, "run_id": context.run_id},
        )
    )


OPERATOR_TAGS = {"skillatlas/operator": "true"}
# The ops report through metadata and materialization events; their output is Nothing, so it never goes
# through the warehouse IO manager (which stores DataFrames only).
SUMMARY_OUT = dg.Out(dg.Nothing, description="summary in the output metadata")


# ------------------------------------------------------------------------------------------------------
# reextract_job
# ------------------------------------------------------------------------------------------------------


DEFAULT_REEXTRACT_LIMIT = 500  # a launch with the scaffolded config cannot re-extract (and pay for) everything


class ReextractConfig(dg.Config):
    force: bool = Field(
        default=False,
        description="Re-extract documents already extracted by the current extractor version too "
        "(default: skip them).",
    )
    limit: int | None = Field(
        default=DEFAULT_REEXTRACT_LIMIT,
        description="At most this many documents, oldest batches first; >= 1, or null for every selected "
        "document. With OpenAI extraction each document costs tokens.",
    )
    batch_ids: list[str] = Field(
        default=[], description="Only these upload batches, e.g. ['b20261201-0001'] (empty: all batches)."
    )
    kinds: list[str] = Field(default=[], description="Only these document kinds: course, job (empty: both).")
    dry_run: bool = Field(
        default=False, description="Report what would change (per batch, in the step's metadata); write nothing."
    )
    llm_mode: str = Field(
        default="",
        description='"sync" (chat completions now), "batch" (OpenAI Batch API: half the price, collected later '
        'by llm_batch_sensor) or "" for the deployment\'s SKILLATLAS_LLM_MODE; offline extraction ignores it.',
    )


def select_documents(
    text: pd.DataFrame, skills: pd.DataFrame, version: str, *, force: bool, limit: int | None
) -> tuple[pd.DataFrame, int]:
    """Documents to re-extract and how many were skipped as already current. A document is current when it
    has skill rows and all of them carry `version`; documents without rows (no skills found, or extraction
    failed) are always re-extracted."""
    text = text.sort_values(["batch_id", "doc_id"]).reset_index(drop=True)
    skipped = 0
    if not force and not skills.empty:
        versions = skills.groupby("doc_id")["extractor_version"].agg(lambda s: set(s.astype(str)))
        current = {doc for doc, found in versions.items() if found == {version}}
        mask = text["doc_id"].isin(current)
        skipped = int(mask.sum())
        text = text[~mask]
    if limit is not None:
        text = text.head(limit)
    return text.reset_index(drop=True), skipped


@dg.op(tags={"skillatlas/queue": "extraction"}, retry_policy=STEP_RETRY, out=SUMMARY_OUT)
def reextract_documents(
    context: dg.OpExecutionContext,
    config: ReextractConfig,
    extractor: ExtractorResource,
    artifacts: ArtifactStore,
    warehouse: WarehouseResource,
) -> dg.Output[None]:
    """Re-run skill extraction over stored document text; replace each affected batch's rows for the
    re-extracted documents in one transaction, after archiving the batch's previous rows."""
    if config.limit is not None and config.limit < 1:
        raise _fail(f"limit must be >= 1 (or unset for all documents), got {config.limit}")
    bad_kinds = sorted(set(config.kinds) - set(KINDS))
    if bad_kinds:
        raise _fail(f"unknown document kind(s) {bad_kinds}: kinds are {', '.join(KINDS)}")
    batch_ids = _checked_keys(config.batch_ids, "batch id")
    if not warehouse.has_table(TEXT_TABLE):
        raise _fail("warehouse table 'document_text' does not exist: ingest a batch first (`make run`)")
    if config.llm_mode not in ("", "sync", "batch"):
        raise _fail(f"llm_mode must be sync, batch or empty (deployment default), got {config.llm_mode!r}")
    if extractor.mode != "offline" and (config.llm_mode or extractor.llm_mode) == "batch" and not config.dry_run:
        from jobs.llm_batch import BatchSelection, advance_submission

        selection = BatchSelection(batch_ids=batch_ids, kinds=list(config.kinds), limit=config.limit,
                                   force=config.force)
        job = advance_submission(context, warehouse, artifacts, extractor, selection)
        return dg.Output(None, metadata={"llm_mode": "batch", "job_key": job["job_key"], "phase": job["phase"],
                                         "openai_batch_id": job["openai_batch_id"] or "",
                                         "documents_selected": int(job["documents"])})
    where: dict[str, Any] = {}
    if batch_ids:
        where["batch_id"] = batch_ids
    if config.kinds:
        where["kind"] = list(config.kinds)
    text = warehouse.read_table(TEXT_TABLE, where)
    if batch_ids:
        known = set(warehouse.read_table(TEXT_TABLE, {"batch_id": batch_ids}, columns=["batch_id"])["batch_id"])
        unknown = sorted(set(batch_ids) - known)
        if unknown:
            raise _fail(f"batch id(s) {unknown} have no documents in document_text (never ingested?)")

    engine, version = extractor.engine_and_version(warehouse, artifacts, context.log)
    skills = warehouse.read_table(SKILLS_TABLE, {"doc_id": list(text["doc_id"])}) if len(text) else pd.DataFrame()
    selected, skipped = select_documents(text, skills, version, force=config.force, limit=config.limit)

    new_rows: dict[str, list[dict[str, object]]] = {}
    failures: list[LedgerItem] = []
    for doc in selected.itertuples(index=False):
        try:
            rows = _skill_rows(engine, version, doc)
        except Exception as exc:  # noqa: BLE001 - one bad document keeps its old rows, the rest go on
            error = classify_exception(exc)
            failures.append(LedgerItem(doc.batch_id, doc.relpath, str(error.kind), error.message, error.transient))
            continue
        new_rows.setdefault(doc.batch_id, []).extend(rows)

    failed_docs = {(f.partition, f.item) for f in failures}
    changed_docs = 0
    rows_before = rows_after = 0
    per_batch: dict[str, dict[str, int]] = {}
    for batch_id, group in selected.groupby("batch_id", sort=True):
        docs = [d for d in group.itertuples(index=False) if (batch_id, d.relpath) not in failed_docs]
        doc_ids = [d.doc_id for d in docs]
        old = skills[skills["doc_id"].isin(doc_ids)] if not skills.empty else pd.DataFrame()
        new = pd.DataFrame(new_rows.get(str(batch_id), []), columns=SKILL_COLUMNS)
        changed = sum(
            _signature(old[old["doc_id"] == d] if not old.empty else old) != _signature(new[new["doc_id"] == d])
            for d in doc_ids
        )
        changed_docs += changed
        rows_before += len(old)
        rows_after += len(new)
        per_batch[str(batch_id)] = {"documents": len(doc_ids), "changed": changed, "rows_before": len(old),
                                    "rows_after": len(new)}
        if config.dry_run or not doc_ids:
            continue
        with warehouse.engine.begin() as conn:
            archived = _archive_batch(conn, str(batch_id), context.run_id)
            delete_rows(conn, SKILLS_TABLE, {"batch_id": str(batch_id), "doc_id": doc_ids})
            write_frame(conn, SKILLS_TABLE, new)
        _materialize(
            context, SKILLS_TABLE, str(batch_id),
            {"documents_reextracted": len(doc_ids), "documents_changed": changed, "rows_before": len(old),
             "rows_after": len(new), "rows_archived": archived, "extractor_version": version},
        )
    if failures and not config.dry_run:
        with warehouse.engine.begin() as conn:
            _ledger_update(conn, failures_frame(SKILLS_TABLE, context.run_id, failures))

    summary = {
        "dry_run": config.dry_run,
        "extractor_version": version,
        "documents_considered": len(text),
        "documents_skipped_current": skipped,
        "documents_selected": len(selected),
        "documents_failed": len(failures),
        "documents_changed": changed_docs,
        "rows_before": rows_before,
        "rows_after": rows_after,
        "batches": len(per_batch),
    }
    verb = "would change" if config.dry_run else "changed"
    context.log.info(
        f"re-extraction{' (dry run)' if config.dry_run else ''}: {len(selected)} document(s) selected, "
        f"{skipped} already current, {changed_docs} {verb}, rows {rows_before} -> {rows_after}, "
        f"{len(failures)} failed, {len(per_batch)} batch(es)"
    )
    return dg.Output(None, metadata={**summary, "per_batch": dg.MetadataValue.json(per_batch)})


@dg.job(
    tags={"skillatlas/queue": "extraction", **OPERATOR_TAGS},
    description="Re-run skill extraction over stored document text (all, some batches or kinds, or a limit); "
    "documents already extracted by the current extractor version are skipped unless force; dry_run reports.",
)
def reextract_job() -> None:
    reextract_documents()


# ------------------------------------------------------------------------------------------------------
# retry_failed_items_job
# ------------------------------------------------------------------------------------------------------


class RetryFailedConfig(dg.Config):
    run_ids: list[str] = Field(
        default=[],
        description="Retry the open failed items (table item_failures, asset failed_items) recorded by these "
        "runs. Give run_ids and/or partitions.",
    )
    partitions: list[str] = Field(
        default=[], description="Retry the open failed items of these upload batches (partition keys)."
    )
    asset: str = Field(
        default="",
        description="Only failures of this asset: document_text (re-parse) or document_skills (re-extract); "
        "empty for both.",
    )


@dg.op(tags={"skillatlas/queue": "ingest"}, retry_policy=STEP_RETRY, out=SUMMARY_OUT)
def retry_failed_items(
    context: dg.OpExecutionContext,
    config: RetryFailedConfig,
    inbox: InboxResource,
    extractor: ExtractorResource,
    artifacts: ArtifactStore,
    warehouse: WarehouseResource,
) -> dg.Output[None]:
    """Re-process only the open `item_failures` rows of the given runs / partitions: re-parse (document_text)
    and re-extract (document_skills). A success writes its rows and closes the ledger row in one transaction;
    a failure bumps the row's attempts and message."""
    if config.asset and config.asset not in RETRYABLE_ASSETS:
        raise _fail(f"asset {config.asset!r} cannot be retried: choose {' or '.join(RETRYABLE_ASSETS)} (or '')")
    partitions = _checked_keys(config.partitions, "partition key")
    if not config.run_ids and not partitions:
        raise _fail("give run_ids and/or partitions: which failures to retry")
    ledger = warehouse.read_table(LEDGER_TABLE)
    known_in_ledger = set(ledger["run_id"]) if not ledger.empty else set()
    unknown = [r for r in config.run_ids if r not in known_in_ledger and context.instance.get_run_by_id(r) is None]
    if unknown:
        raise _fail(f"unknown run id(s) {unknown}: no such run in this instance and no ledger rows from it")
    if ledger.empty:
        selected = ledger
    else:
        mask = ledger["asset"].isin([config.asset] if config.asset else list(RETRYABLE_ASSETS))
        if config.run_ids:
            mask &= ledger["run_id"].isin(config.run_ids)
        if partitions:
            mask &= ledger["partition"].isin(partitions)
        selected = ledger[mask].sort_values(["partition", "item"]).reset_index(drop=True)

    succeeded = still_failed = 0
    touched: dict[str, Counter] = {}
    engine_version: tuple[Any, str] | None = None
    for row in selected.itertuples(index=False):
        batch_id, relpath = str(row.partition), str(row.item)
        try:
            if engine_version is None:
                engine_version = extractor.engine_and_version(warehouse, artifacts, context.log)
            engine, version = engine_version
            if row.asset == TEXT_TABLE:
                manifest = warehouse.read_table(MANIFEST_TABLE, {"batch_id": batch_id, "relpath": relpath})
                if manifest.empty:
                    raise ItemError("file_not_found", f"{relpath} is not in the manifest of batch {batch_id}")
                item = next(manifest.itertuples(index=False))
                parsed = parse_document(inbox.resolve(relpath), max_bytes=inbox.max_file_bytes)
                doc_row = text_row(item, parsed)
            else:
                found = warehouse.read_table(TEXT_TABLE, {"batch_id": batch_id, "relpath": relpath})
                if found.empty:
                    raise ItemError("file_not_found", f"{relpath} has no document_text row in batch {batch_id}")
                doc_row = found.iloc[0].to_dict()
            doc = SimpleNamespace(**doc_row)
            rows = pd.DataFrame(_skill_rows(engine, version, doc), columns=SKILL_COLUMNS)
        except dg.Failure:
            raise
        except Exception as exc:  # noqa: BLE001 - a still-bad item is recorded, the rest go on
            error = exc if isinstance(exc, ItemError) else classify_exception(exc)
            if isinstance(exc, ValueError) and not isinstance(exc, ItemError):
                error = ItemError("invalid_input", str(exc))
            frame = failures_frame(
                row.asset, context.run_id,
                [LedgerItem(batch_id, relpath, str(error.kind), error.message, error.transient,
                            attempts=int(row.attempts) + 1)],
            )
            with warehouse.engine.begin() as conn:
                _ledger_update(conn, frame)
            still_failed += 1
            touched.setdefault(batch_id, Counter())["still_failed"] += 1
            context.log.warning(f"{row.asset}[{batch_id}] {relpath}: still failing: {error.kind}: {error.message}")
            continue
        with warehouse.engine.begin() as conn:
            if row.asset == TEXT_TABLE:
                delete_rows(conn, TEXT_TABLE, {"doc_id": doc_row["doc_id"]})
                write_frame(conn, TEXT_TABLE, pd.DataFrame([doc_row], columns=TEXT_COLUMNS))
            delete_rows(conn, SKILLS_TABLE, {"doc_id": doc_row["doc_id"]})
            write_frame(conn, SKILLS_TABLE, rows)
            delete_rows(conn, LEDGER_TABLE, {"partition": batch_id, "item": relpath, "asset": list(RETRYABLE_ASSETS)})
        succeeded += 1
        counter = touched.setdefault(batch_id, Counter())
        counter["succeeded"] += 1
        counter[f"{row.asset}_recovered"] += 1
        counter["skill_rows"] += len(rows)
        context.log.info(f"{row.asset}[{batch_id}] {relpath}: recovered ({len(rows)} skill rows)")

    for batch_id, counter in sorted(touched.items()):
        if not counter["succeeded"]:
            continue
        if counter[f"{TEXT_TABLE}_recovered"]:
            _materialize(context, TEXT_TABLE, batch_id, {"documents_added": counter[f"{TEXT_TABLE}_recovered"]})
        _materialize(
            context, SKILLS_TABLE, batch_id,
            {"documents_recovered": counter["succeeded"], "skill_rows_added": counter["skill_rows"]},
        )
    summary = {"processed": len(selected), "succeeded": succeeded, "still_failed": still_failed,
               "partitions": len(touched)}
    context.log.info(f"retry of failed items: {summary}")
    return dg.Output(None, metadata=summary)


@dg.job(
    tags={"skillatlas/queue": "ingest", **OPERATOR_TAGS},
    description="Re-process only the open failed items (item_failures) of the given runs or batches.",
)
def retry_failed_items_job() -> None:
    retry_failed_items()


# ------------------------------------------------------------------------------------------------------
# rollback_extraction_job
# ------------------------------------------------------------------------------------------------------


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


@dg.op(tags={"skillatlas/queue": "extraction"}, retry_policy=STEP_RETRY, out=SUMMARY_OUT)
def rollback_extraction(
    context: dg.OpExecutionContext, config: RollbackConfig, warehouse: WarehouseResource
) -> dg.Output[None]:
    """Restore a batch's previous extraction from `document_skills_history`; the current rows are archived
    first, in the same transaction (so a rollback can itself be rolled back)."""
    (batch_id,) = _checked_keys([config.batch_id], "batch id")
    history = warehouse.read_table(HISTORY_TABLE, {"batch_id": batch_id})
    if not history.empty:
        # rows this run archived (a retried step) are the rows it replaced, not a version to restore
        history = history[history["archived_by_run"] != context.run_id]
    if history.empty:
        raise _fail(
            f"batch {batch_id} has no archived extraction in {HISTORY_TABLE}: nothing to roll back to "
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
        raise _fail(
            f"batch {batch_id} has no archive by run {config.archived_by_run!r}; archives: {versions}"
        ) from None
    restore = history[history["archived_by_run"] == source_run].drop(columns=["archived_by_run", "archived_at"])
    with warehouse.engine.begin() as conn:
        current = read_rows(conn, SKILLS_TABLE, {"batch_id": batch_id})
        archived = _archive_batch(conn, batch_id, context.run_id)
        delete_rows(conn, SKILLS_TABLE, {"batch_id": batch_id})
        columns = list(current.columns) if not current.empty else list(restore.columns)
        write_frame(conn, SKILLS_TABLE, restore[[c for c in columns if c in restore.columns]])
    summary = {
        "batch_id": batch_id,
        "restored_from_run": str(source_run),
        "rows_before": len(current),
        "rows_restored": len(restore),
        "rows_archived": archived,
    }
    _materialize(context, SKILLS_TABLE, batch_id, {k: v for k, v in summary.items() if k != "batch_id"})
    context.log.info(f"rolled back {batch_id}: {summary}")
    return dg.Output(None, metadata=summary)


@dg.job(
    tags={"skillatlas/queue": "extraction", **OPERATOR_TAGS},
    description="Restore a batch's previous skill extraction from document_skills_history.",
)
def rollback_extraction_job() -> None:
    rollback_extraction()


# ------------------------------------------------------------------------------------------------------
# undo_skill_merge_job
# ------------------------------------------------------------------------------------------------------


class UndoMergeConfig(dg.Config):
    skill_id: str = Field(
        description="The merged skill, e.g. onet:python (asset skill_merge_map); a cluster's canonical skill "
        "dissolves the whole cluster."
    )


@dg.op(tags={"skillatlas/queue": "scoring"}, retry_policy=STEP_RETRY, out=SUMMARY_OUT)
def undo_skill_merge(
    context: dg.OpExecutionContext, config: UndoMergeConfig, warehouse: WarehouseResource
) -> dg.Output[None]:
    """Reverse one near-duplicate merge in `skill_merge_map` (history kept: rows are stamped `undone_at`);
    the next sweep keeps it reversed. Scores pick it up at their next rebuild."""
    from skillatlas.reference.dedup import undo_merge

    skill_id = config.skill_id.strip()
    if not skill_id:
        raise _fail("skill_id is empty: give the id of a merged skill, e.g. onet:python")
    merge_map = warehouse.read_table(MERGE_MAP_TABLE)
    if merge_map.empty:
        raise _fail(f"table '{MERGE_MAP_TABLE}' is missing or empty: no merges to undo (materialise it first)")
    try:
        updated = undo_merge(merge_map, skill_id)
    except KeyError:
        rows = merge_map[(merge_map["skill_id"] == skill_id) | (merge_map["canonical_id"] == skill_id)]
        detail = "its merge was already undone" if len(rows) else "it is not in the merge map"
        raise _fail(f"skill {skill_id!r} is not merged: {detail}") from None
    newly_undone = int((updated["undone_at"].notna() & merge_map["undone_at"].isna()).sum())
    with warehouse.engine.begin() as conn:
        delete_rows(conn, MERGE_MAP_TABLE, {})
        write_frame(conn, MERGE_MAP_TABLE, updated)
    summary = {"skill_id": skill_id, "rows_undone": newly_undone, "rows": len(updated)}
    _materialize(context, MERGE_MAP_TABLE, None, summary)
    context.log.info(f"undid merge of {skill_id}: {newly_undone} row(s) stamped undone_at")
    return dg.Output(None, metadata=summary)


@dg.job(
    tags={"skillatlas/queue": "scoring", **OPERATOR_TAGS},
    description="Reverse a near-duplicate skill merge (skill_merge_map keeps the history).",
)
def undo_skill_merge_job() -> None:
    undo_skill_merge()


OPERATOR_JOBS: Sequence[dg.JobDefinition] = [
    reextract_job, retry_failed_items_job, rollback_extraction_job, undo_skill_merge_job,
]
