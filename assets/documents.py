"""Uploaded documents: their text and the skills extracted from them, one partition per upload batch."""

from collections import Counter
from typing import Any

import dagster as dg
import pandas as pd

from assets.batch_runs import BatchWork, materialize_batches
from assets.catalog import table_asset  # column schemas, kinds, owners (issue 13)
from assets.llm_review import record_llm_outcomes
from assets.partitions import BATCH_BACKFILL_POLICY, checked_keys, upload_batches
from assets.reference import decode_taxonomy, load_taxonomy_vectors
from resources.artifacts import ArtifactStore
from resources.extractor import ExtractorResource
from resources.inbox import InboxResource
from resources.settings import load_settings
from resources.warehouse import WarehouseResource
from skillatlas.errors import ErrorKind, ItemError
from skillatlas.extract.base import Extractor, LLMBacked
from skillatlas.ingest.batches import (
    PARSER_VERSION,
    BatchResult,
    Progress,
    batch_fingerprint,
    extract_batch,
    parse_batch,
)
from skillatlas.ingest.parsing import parse_document
from skillatlas.store.batches import archive_batches, load_extraction_inputs, load_manifest
from skillatlas.store.tables import DOCUMENT_SKILLS, DOCUMENT_TEXT, SKILL_COLUMNS, TEXT_COLUMNS
from skillatlas.store.versions import retire_superseded_versions

DOCUMENTS_GROUP = "documents"

# Transient failures (I/O hiccups, database blips) are retried by the step; the rest are item failures.
STEP_RETRY = dg.RetryPolicy(max_retries=3, delay=2, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)

# The `openai` pool caps concurrent LLM-calling extraction steps across runs (their client-side rate limiters
# together stay within the account's limits). Offline extraction calls no LLM: it is limited by the number of
# run workers / Celery workers only, never by this pool.
LLM_POOL = "openai"


def extraction_pool() -> str | None:
    """The pool of `document_skills` for this deployment's extractor mode (None in offline mode)."""
    return LLM_POOL if load_settings().extractor != "offline" else None


def manifest_fingerprint(manifest: pd.DataFrame) -> str:
    return batch_fingerprint(zip(manifest["doc_id"], manifest["sha256"], strict=True))


def document_asset(table: str, queue: str, **asset_args: Any) -> Any:
    """The decorator of a document asset: one partition per upload batch, one batch per backfill run."""
    return table_asset(
        table, DOCUMENTS_GROUP, queue, partition_expr="batch_id", partitions_def=upload_batches,
        backfill_policy=BATCH_BACKFILL_POLICY, retry_policy=STEP_RETRY, **asset_args,
    )


@document_asset(DOCUMENT_TEXT, "ingest")
def document_text(
    context: dg.AssetExecutionContext, inbox: InboxResource, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """Plain text of every document in the batch (PDF, DOCX, HTML, TXT), with its kind (course or job),
    title and posting date. A document that cannot be read becomes one `item_failures` row with the reason;
    the rest of the batch goes on. Each batch is committed on its own (see `assets.batch_runs`)."""

    def parse(item: Any) -> Any:
        try:
            path = inbox.resolve(item.relpath)
        except ValueError as exc:  # unsafe upload name
            raise ItemError(ErrorKind.INVALID_INPUT, str(exc)) from exc
        # the registered hash guards against a file rewritten since registration: it is re-queued, not ingested
        return parse_document(path, max_bytes=inbox.max_file_bytes, expected_sha256=item.sha256)

    def retire_older_versions(batch_id: str) -> dict[str, Any]:
        # new versions of a path retire the older ones from document_text/document_skills (kept in history)
        retired = retire_superseded_versions(warehouse.engine, [batch_id], context.run.run_id)
        return {"superseded_versions_retired": retired}

    def work_for(batch_id: str) -> BatchWork:
        manifest = load_manifest(warehouse.engine, batch_id)
        items = list(manifest.itertuples(index=False))
        return BatchWork(
            fingerprint=manifest_fingerprint(manifest),
            process=lambda progress: parse_batch(batch_id, items, parse, progress),
        )

    def by_format(result: BatchResult) -> dict[str, Any]:
        return {"by_format": dg.MetadataValue.json(dict(Counter(str(r["format"]) for r in result.rows)))}

    return materialize_batches(
        context,
        warehouse,
        table=DOCUMENT_TEXT,
        columns=TEXT_COLUMNS,
        version=PARSER_VERSION,
        work_for=work_for,
        extra_metadata=by_format,
        after_commit=retire_older_versions,
    )


@document_asset(
    DOCUMENT_SKILLS,
    "extraction",
    pool=extraction_pool(),
    # New uploads are extracted automatically; a new taxonomy is not: re-extraction after a reference refresh
    # is an explicit reextract_job run (README, "Reference refreshes"), so it never calls the LLM unasked.
    automation_condition=dg.AutomationCondition.eager().ignore(
        dg.AssetSelection.assets("skill_taxonomy", "taxonomy_vectors")
    ),
    # The text is read batch by batch from the warehouse (only the columns needed), not loaded as an input:
    # memory stays flat in corpus size, and a worker on another machine needs only the warehouse.
    deps=[DOCUMENT_TEXT, "taxonomy_vectors"],
)
def document_skills(
    context: dg.AssetExecutionContext,
    extractor: ExtractorResource,
    artifacts: ArtifactStore,
    warehouse: WarehouseResource,
    skill_taxonomy: pd.DataFrame,
) -> dg.MaterializeResult:
    """Skills found in each document: taxonomy skill id and label, confidence in [0, 1], the evidence (text
    and character offsets) and the method that found it (phrase, semantic or llm). One row per document and
    skill. A document the extractor fails on becomes an `item_failures` row; the rest of the batch goes on.
    Each batch is committed on its own; a batch already extracted by the current extractor version from the
    same text is skipped (see `assets.batch_runs`)."""
    keys = checked_keys(context.partition_keys)
    taxonomy = decode_taxonomy(skill_taxonomy)
    engine = extractor.build_logged(taxonomy, load_taxonomy_vectors(artifacts, taxonomy), context.log)
    version = engine.version
    # before anything of this run is committed: the rollback job restores these rows
    archive_batches(warehouse.engine, keys, context.run.run_id)

    def work_for(batch_id: str) -> BatchWork:
        docs = load_extraction_inputs(warehouse.engine, batch_id)
        items = list(docs.itertuples(index=False))

        def process(progress: Progress) -> BatchResult:
            result = extract_batch(batch_id, items, engine.extract, version, progress)
            # LLM failures hidden by the offline fallback become ledger rows; bad AI output goes to review
            llm_failures, llm_metadata[batch_id] = record_llm_outcomes(context, warehouse, engine, docs, version)
            result.failures.extend(llm_failures)
            return result

        return BatchWork(
            # the text it was extracted from: same documents, same content, same parser version
            fingerprint=f"{manifest_fingerprint(docs)}:{PARSER_VERSION}",
            process=process,
        )

    llm_metadata: dict[str, dict[str, Any]] = {}

    def skill_figures(result: BatchResult) -> dict[str, Any]:
        methods = Counter(str(r["method"]) for r in result.rows)
        return {
            "documents_without_skills": result.without_skills,
            "skills_found": len(result.rows),
            "distinct_skills": len({r["skill_id"] for r in result.rows}),
            "mean_skills_per_document": round(len(result.rows) / max(1, result.succeeded), 2),
            "by_method": dg.MetadataValue.json(dict(methods)),
            "extractor_version": version,
            **llm_usage(engine),
            **llm_metadata.get(result.batch_id, {}),
        }

    return materialize_batches(
        context,
        warehouse,
        table=DOCUMENT_SKILLS,
        columns=SKILL_COLUMNS,
        version=version,
        work_for=work_for,
        extra_metadata=skill_figures,
    )


def llm_usage(engine: Extractor) -> dict[str, float]:
    """Tokens, cost, retries and dropped out-of-taxonomy labels of an LLM-backed extractor (else nothing)."""
    if not isinstance(engine, LLMBacked):
        return {}
    return {f"llm_{k}": v for k, v in engine.stats.as_metadata().items() if isinstance(v, int | float)}
