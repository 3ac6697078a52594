"""reextract_job: re-run skill extraction over stored document text (all, some batches or kinds, or a limit).

Documents already extracted by the current extractor version are skipped unless `force`; `dry_run` reports per
batch what would change. Each batch's previous rows are archived (rollback_extraction_job restores them) in the
transaction that replaces them. With `llm_mode=batch` the selection goes to the OpenAI Batch API instead
(`jobs.llm_batch`). Shared helpers: `jobs.operator`.
"""

from typing import Any

import dagster as dg
import pandas as pd
from pydantic import Field

from jobs.operator import (
    check_selection,
    config_error,
    document_skills_of,
    operator_job,
    operator_op,
    report_change,
    selected_text,
)
from resources.artifacts import ArtifactStore
from resources.extractor import ExtractorResource
from resources.warehouse import WarehouseResource
from skillatlas.ingest.batches import ItemFailure, extract_batch
from skillatlas.store.batches import failures_frame, replace_skill_rows, update_ledger
from skillatlas.store.tables import DOCUMENT_SKILLS, DOCUMENT_TEXT, SKILL_COLUMNS

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


def _signature(rows: pd.DataFrame) -> set[tuple[Any, ...]]:
    if rows.empty:
        return set()
    return {
        (r.skill_id, round(float(r.confidence), 4), r.method, int(r.evidence_start), int(r.evidence_end),
         r.extractor_version)
        for r in rows.itertuples(index=False)
    }


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


@operator_op("extraction")
def reextract_documents(
    context: dg.OpExecutionContext,
    config: ReextractConfig,
    extractor: ExtractorResource,
    artifacts: ArtifactStore,
    warehouse: WarehouseResource,
) -> dg.Output[None]:
    """Re-run skill extraction over stored document text; replace each affected batch's rows for the
    re-extracted documents in one transaction, after archiving the batch's previous rows."""
    batch_ids = check_selection(config.kinds, config.limit, config.batch_ids)
    if not warehouse.has_table(DOCUMENT_TEXT):
        raise config_error(f"warehouse table '{DOCUMENT_TEXT}' does not exist: ingest a batch first (`make run`)")
    if config.llm_mode not in ("", "sync", "batch"):
        raise config_error(f"llm_mode must be sync, batch or empty (deployment default), got {config.llm_mode!r}")
    if extractor.mode != "offline" and (config.llm_mode or extractor.llm_mode) == "batch" and not config.dry_run:
        from jobs.llm_batch import BatchSelection, advance_submission

        selection = BatchSelection(batch_ids=batch_ids, kinds=list(config.kinds), limit=config.limit,
                                   force=config.force)
        job = advance_submission(context, warehouse, artifacts, extractor, selection)
        return dg.Output(None, metadata={"llm_mode": "batch", "job_key": job["job_key"], "phase": job["phase"],
                                         "openai_batch_id": job["openai_batch_id"] or "",
                                         "documents_selected": int(job["documents"])})
    text = selected_text(warehouse, batch_ids, config.kinds)
    if batch_ids:
        known = set(warehouse.read_table(DOCUMENT_TEXT, {"batch_id": batch_ids}, columns=["batch_id"])["batch_id"])
        unknown = sorted(set(batch_ids) - known)
        if unknown:
            raise config_error(f"batch id(s) {unknown} have no documents in {DOCUMENT_TEXT} (never ingested?)")

    engine, version = extractor.engine_and_version(warehouse, artifacts, context.log)
    skills = document_skills_of(warehouse, text)
    selected, skipped = select_documents(text, skills, version, force=config.force, limit=config.limit)

    new_rows: dict[str, list[dict[str, object]]] = {}
    failures: list[ItemFailure] = []
    for batch_id, group in selected.groupby("batch_id", sort=True):
        # the same per-batch extraction as document_skills; a failed document keeps its old rows
        result = extract_batch(str(batch_id), list(group.itertuples(index=False)), engine.extract, version)
        new_rows[str(batch_id)] = result.rows
        failures.extend(result.failures)

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
        archived = replace_skill_rows(warehouse.engine, str(batch_id), doc_ids, new, context.run_id)
        report_change(
            context, DOCUMENT_SKILLS, str(batch_id),
            {"documents_reextracted": len(doc_ids), "documents_changed": changed, "rows_before": len(old),
             "rows_after": len(new), "rows_archived": archived, "extractor_version": version},
        )
    if failures and not config.dry_run:
        with warehouse.engine.begin() as conn:
            update_ledger(conn, failures_frame(DOCUMENT_SKILLS, context.run_id, failures))

    summary: dict[str, Any] = {
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


reextract_job = operator_job(reextract_documents, "extraction", name="reextract_job", description=(
    "Re-run skill extraction over stored document text (all, some batches or kinds, or a limit); "
    "documents already extracted by the current extractor version are skipped unless force; dry_run reports."
))
