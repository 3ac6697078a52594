"""Uploaded documents: their text and the skills extracted from them, one partition per upload batch."""


from collections import Counter
from typing import Any

import dagster as dg
import pandas as pd

from assets.catalog import DATA_OWNERS, table_kinds, table_metadata  # column schemas, kinds (issue 13)
from assets.ledger import ItemFailure, record_failures
from assets.partitions import BATCH_BACKFILL_POLICY, upload_batches
from assets.reference import decode_taxonomy, load_taxonomy_vectors
from resources.artifacts import ArtifactStore
from resources.extractor import ExtractorResource
from resources.inbox import InboxResource
from resources.warehouse import WarehouseResource, utc_now_iso
from skillatlas.errors import ItemError, classify_exception
from skillatlas.parsing import parse_document
from skillatlas.validation import validate_partition_key

DOCUMENTS_GROUP = "documents"
MANIFEST_TABLE = "upload_manifest"
HISTORY_TABLE = "document_skills_history"
TEXT_COLUMNS = [
    "batch_id", "doc_id", "relpath", "kind", "format", "title", "posted_date", "sha256", "char_count",
    "truncated", "text",
]
SKILL_COLUMNS = [
    "batch_id", "doc_id", "kind", "skill_id", "label", "confidence", "method", "evidence_start",
    "evidence_end", "evidence", "extractor_version",
]

# Transient failures (I/O hiccups, database blips) are retried by the step; the rest are item failures.
STEP_RETRY = dg.RetryPolicy(max_retries=3, delay=2, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)


def batch_keys(context: dg.AssetExecutionContext) -> list[str]:
    return checked_keys(list(context.partition_keys))


def checked_keys(keys: list[str]) -> list[str]:
    """Partition keys come from the UI and run config too: refuse anything not shaped like a batch id."""
    for key in keys:
        try:
            validate_partition_key(key)
        except ValueError as exc:
            raise dg.Failure(f"bad partition key: {exc}", allow_retries=False) from exc
    return keys


def batch_summary(processed: int, succeeded: int, failed: int, skipped: int) -> dict[str, int | float]:
    return {
        "processed": processed,
        "succeeded": succeeded,
        "failed": failed,
        "skipped": skipped,
        "failure_rate": round(failed / processed, 4) if processed else 0.0,
    }


@dg.asset(
    group_name=DOCUMENTS_GROUP,
    partitions_def=upload_batches,
    backfill_policy=BATCH_BACKFILL_POLICY,
    metadata=table_metadata("document_text", partition_expr="batch_id"),
    kinds=table_kinds(),
    owners=DATA_OWNERS,
    retry_policy=STEP_RETRY,
    tags={"skillatlas/queue": "ingest"},
)
def document_text(
    context: dg.AssetExecutionContext, inbox: InboxResource, warehouse: WarehouseResource
) -> pd.DataFrame:
    """Plain text of every document in the batch (PDF, DOCX, HTML, TXT), with its kind (course or job),
    title and posting date. A document that cannot be read becomes one `item_failures` row with the reason;
    the rest of the batch goes on."""
    keys = batch_keys(context)
    manifest = warehouse.read_table(MANIFEST_TABLE, {"batch_id": keys})
    missing = sorted(set(keys) - set(manifest.get("batch_id", pd.Series(dtype=str))))
    if missing:
        raise dg.Failure(
            f"no manifest rows for batch(es) {missing}: the batch was never registered by the inbox sensor",
            allow_retries=False,
        )
    rows: list[dict[str, object]] = []
    failures: list[ItemFailure] = []
    manifest = manifest.sort_values(["batch_id", "relpath"], kind="stable")
    for position, item in enumerate(manifest.itertuples(index=False)):
        previous_batch = manifest.iloc[position - 1]["batch_id"] if position else None
        if previous_batch is not None and item.batch_id != previous_batch:
            commit_finished_batch(
                context, warehouse, "document_text", TEXT_COLUMNS, rows, failures, keys, str(previous_batch)
            )
        try:
            parsed = parse_document(inbox.resolve(item.relpath), max_bytes=inbox.max_file_bytes)
        except ItemError as exc:
            failures.append(ItemFailure(item.batch_id, item.relpath, str(exc.kind), exc.message, exc.transient))
            continue
        except ValueError as exc:  # unsafe upload name
            failures.append(ItemFailure(item.batch_id, item.relpath, "invalid_input", str(exc)))
            continue
        except Exception as exc:  # noqa: BLE001 - one bad file must never sink its batch
            error = classify_exception(exc)
            failures.append(ItemFailure(item.batch_id, item.relpath, str(error.kind), error.message, error.transient))
            continue
        rows.append(text_row(item, parsed))
    record_failures(context, warehouse, "document_text", keys, failures)
    out = pd.DataFrame(rows, columns=TEXT_COLUMNS)
    context.add_output_metadata(
        {
            **batch_summary(len(manifest), len(out), len(failures), 0),
            "batches": len(keys),
            "by_format": dg.MetadataValue.json(dict(Counter(out["format"]))),
            "failures_by_kind": dg.MetadataValue.json(dict(Counter(f.error_kind for f in failures))),
        }
    )
    return out


def commit_finished_batch(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    asset: str,
    columns: list[str],
    rows: list[dict[str, object]],
    failures: list[ItemFailure],
    keys: list[str],
    done: str,
) -> None:
    """In a range run, commit each batch as soon as it is done (its rows and ledger rows, one transaction each),
    so a run cancelled or killed later keeps its finished batches. The IO manager's final write replaces the
    same rows again (delete + insert), so nothing is duplicated; a retry redoes only idempotent work."""
    if len(keys) < 2:
        return  # a single-batch run commits once, through the IO manager, at the same moment
    frame = pd.DataFrame([r for r in rows if r["batch_id"] == done], columns=columns)
    warehouse.replace_rows(asset, frame, {"batch_id": done})
    record_failures(context, warehouse, asset, [done], [f for f in failures if f.partition == done])


def text_row(item: Any, parsed: Any) -> dict[str, object]:
    """The `document_text` row of one parsed manifest item (also written by the operator jobs)."""
    return {
        "batch_id": item.batch_id,
        "doc_id": item.doc_id,
        "relpath": item.relpath,
        "kind": item.kind,
        "format": parsed.format,
        "title": parsed.title or item.relpath.rsplit("/", 1)[-1],
        "posted_date": parsed.posted_date.isoformat() if parsed.posted_date else None,
        "sha256": item.sha256,
        "char_count": len(parsed.text),
        "truncated": bool(getattr(parsed, "truncated", False)),
        "text": parsed.text,
    }


def skill_rows(doc: Any, mentions: list[Any], version: str) -> list[dict[str, object]]:
    """The `document_skills` rows of one document (also written by the operator jobs)."""
    return [
        {
            "batch_id": doc.batch_id,
            "doc_id": doc.doc_id,
            "kind": doc.kind,
            "skill_id": m.skill_id,
            "label": m.label,
            "confidence": float(m.confidence),
            "method": m.method,
            "evidence_start": int(m.start),
            "evidence_end": int(m.end),
            "evidence": m.evidence[:500],
            "extractor_version": version,
        }
        for m in mentions
    ]


def archive_previous_extraction(warehouse: WarehouseResource, batch_ids: list[str], run_id: str) -> int:
    """Copy the batches' current skill rows to `document_skills_history` before they are replaced, so the
    rollback job can restore them. First write wins per (run, batch): a retried step of the same run, which may
    already have committed some batches, keeps the archive of the rows from before the run."""
    archived = warehouse.read_table(HISTORY_TABLE, {"batch_id": batch_ids, "archived_by_run": run_id})
    todo = sorted(set(batch_ids) - (set(archived["batch_id"]) if not archived.empty else set()))
    current = warehouse.read_table("document_skills", {"batch_id": todo}) if todo else pd.DataFrame()
    if current.empty:
        return 0
    current = current.assign(archived_by_run=run_id, archived_at=utc_now_iso())
    warehouse.replace_rows(HISTORY_TABLE, current, {"batch_id": todo, "archived_by_run": run_id})
    return len(current)


@dg.asset(
    group_name=DOCUMENTS_GROUP,
    partitions_def=upload_batches,
    backfill_policy=BATCH_BACKFILL_POLICY,
    metadata=table_metadata("document_skills", partition_expr="batch_id"),
    kinds=table_kinds(),
    owners=DATA_OWNERS,
    retry_policy=STEP_RETRY,
    # Extraction may call OpenAI (openai/cascade modes): one shared pool caps concurrent extraction steps
    # across runs, so their client-side rate limiters together stay within the account's limits.
    pool="openai",
    tags={"skillatlas/queue": "extraction"},
    automation_condition=dg.AutomationCondition.eager(),
    deps=["taxonomy_vectors"],
)
def document_skills(
    context: dg.AssetExecutionContext,
    extractor: ExtractorResource,
    artifacts: ArtifactStore,
    warehouse: WarehouseResource,
    document_text: pd.DataFrame,
    skill_taxonomy: pd.DataFrame,
) -> pd.DataFrame:
    """Skills found in each document: taxonomy skill id and label, confidence in [0, 1], the evidence (text
    and character offsets) and the method that found it (phrase, semantic or llm). One row per document and
    skill. A document the extractor fails on becomes an `item_failures` row; the rest of the batch goes on."""
    keys = batch_keys(context)
    taxonomy = decode_taxonomy(skill_taxonomy)
    vectors = load_taxonomy_vectors(artifacts, taxonomy)
    if vectors is None and extractor.semantic:
        context.log.warning("taxonomy_vectors missing or stale: extracting with phrase matching only")
    engine = extractor.build(taxonomy, vectors)
    version = str(getattr(engine, "version", type(engine).__name__))
    # before anything of this run is committed: the rollback job restores these rows
    archive_previous_extraction(warehouse, keys, context.run.run_id)
    rows: list[dict[str, object]] = []
    failures: list[ItemFailure] = []
    no_skills = 0
    document_text = document_text.sort_values(["batch_id", "doc_id"], kind="stable")
    previous_batch = None
    for doc in document_text.itertuples(index=False):
        if previous_batch is not None and doc.batch_id != previous_batch:
            commit_finished_batch(
                context, warehouse, "document_skills", SKILL_COLUMNS, rows, failures, keys, str(previous_batch)
            )
        previous_batch = doc.batch_id
        try:
            mentions = engine.extract(doc.text)
        except ItemError as exc:
            failures.append(ItemFailure(doc.batch_id, doc.relpath, str(exc.kind), exc.message, exc.transient))
            continue
        except Exception as exc:  # noqa: BLE001 - one bad document must never sink its batch
            error = classify_exception(exc)
            failures.append(ItemFailure(doc.batch_id, doc.relpath, str(error.kind), error.message, error.transient))
            continue
        if not mentions:
            no_skills += 1
        rows.extend(skill_rows(doc, mentions, version))
    record_failures(context, warehouse, "document_skills", keys, failures)
    out = pd.DataFrame(rows, columns=SKILL_COLUMNS)
    processed = len(document_text)
    context.add_output_metadata(
        {
            **batch_summary(processed, processed - len(failures), len(failures), 0),
            "documents_without_skills": no_skills,
            "skills_found": len(out),
            "distinct_skills": int(out["skill_id"].nunique()),
            "mean_skills_per_document": round(len(out) / max(1, processed - len(failures)), 2),
            "by_method": dg.MetadataValue.json(dict(Counter(out["method"]))),
            "extractor_version": version,
            **llm_usage(engine),
        }
    )
    return out


def llm_usage(engine: object) -> dict[str, float]:
    """Tokens, cost, retries and dropped out-of-taxonomy labels of an OpenAI-backed extractor (else nothing)."""
    stats = getattr(engine, "stats", None) or getattr(getattr(engine, "llm", None), "stats", None)
    if stats is None or not hasattr(stats, "as_metadata"):
        return {}
    return {f"llm_{k}": v for k, v in stats.as_metadata().items() if isinstance(v, int | float)}
