"""retry_failed_items_job: re-process only the open failed items (`item_failures`) of given runs or batches.

A `document_text` failure is re-parsed and extracted, a `document_skills` failure re-extracted; a success writes
its rows and closes its ledger rows in one transaction (`skillatlas.store.batches.recover_item`), a failure bumps
the row's attempts and message. Shared helpers: `jobs.operator`.
"""

from collections import Counter
from types import SimpleNamespace
from typing import Any

import dagster as dg
import pandas as pd
from pydantic import Field

from jobs.operator import (
    checked_keys,
    config_error,
    extract_rows,
    operator_job,
    operator_op,
    report_change,
)
from resources.artifacts import ArtifactStore
from resources.extractor import ExtractorResource
from resources.inbox import InboxResource
from resources.warehouse import WarehouseResource
from skillatlas.errors import ErrorKind, ItemError, classify_exception
from skillatlas.ingest.batches import ItemFailure, text_row
from skillatlas.ingest.parsing import parse_document
from skillatlas.store.batches import failures_frame, recover_item, update_ledger
from skillatlas.store.tables import DOCUMENT_SKILLS, DOCUMENT_TEXT, ITEM_FAILURES, SKILL_COLUMNS, UPLOAD_MANIFEST

RETRYABLE_ASSETS = (DOCUMENT_TEXT, DOCUMENT_SKILLS)


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


@operator_op("ingest")
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
        raise config_error(f"asset {config.asset!r} cannot be retried: choose {' or '.join(RETRYABLE_ASSETS)} (or '')")
    partitions = checked_keys(config.partitions, "partition key")
    if not config.run_ids and not partitions:
        raise config_error("give run_ids and/or partitions: which failures to retry")
    ledger = warehouse.read_table(ITEM_FAILURES)
    known_in_ledger = set(ledger["run_id"]) if not ledger.empty else set()
    unknown = [r for r in config.run_ids if r not in known_in_ledger and context.instance.get_run_by_id(r) is None]
    if unknown:
        raise config_error(f"unknown run id(s) {unknown}: no such run in this instance and no ledger rows from it")
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
            if row.asset == DOCUMENT_TEXT:
                manifest = warehouse.read_table(UPLOAD_MANIFEST, {"batch_id": batch_id, "relpath": relpath})
                if manifest.empty:
                    raise ItemError(ErrorKind.FILE_NOT_FOUND, f"{relpath} is not in the manifest of batch {batch_id}")
                item = next(manifest.itertuples(index=False))
                parsed = parse_document(inbox.resolve(relpath), max_bytes=inbox.max_file_bytes)
                doc_row = text_row(item, parsed)
                reparsed: dict[str, object] | None = doc_row
            else:
                found = warehouse.read_table(DOCUMENT_TEXT, {"batch_id": batch_id, "relpath": relpath})
                if found.empty:
                    raise ItemError(
                        ErrorKind.FILE_NOT_FOUND, f"{relpath} has no {DOCUMENT_TEXT} row in batch {batch_id}"
                    )
                doc_row = found.iloc[0].to_dict()
                reparsed = None
            doc = SimpleNamespace(**doc_row)
            rows = pd.DataFrame(extract_rows(engine, version, doc), columns=SKILL_COLUMNS)
        except dg.Failure:
            raise
        except Exception as exc:  # noqa: BLE001 - a still-bad item is recorded, the rest go on
            error = exc if isinstance(exc, ItemError) else classify_exception(exc)
            if isinstance(exc, ValueError) and not isinstance(exc, ItemError):
                error = ItemError(ErrorKind.INVALID_INPUT, str(exc))
            frame = failures_frame(
                row.asset, context.run_id,
                [ItemFailure(batch_id, relpath, str(error.kind), error.message, error.transient,
                            attempts=int(row.attempts) + 1)],
            )
            with warehouse.engine.begin() as conn:
                update_ledger(conn, frame)
            still_failed += 1
            touched.setdefault(batch_id, Counter())["still_failed"] += 1
            context.log.warning(f"{row.asset}[{batch_id}] {relpath}: still failing: {error.kind}: {error.message}")
            continue
        recover_item(warehouse.engine, batch_id, relpath, reparsed, str(doc_row["doc_id"]), rows, RETRYABLE_ASSETS)
        succeeded += 1
        counter = touched.setdefault(batch_id, Counter())
        counter["succeeded"] += 1
        counter[f"{row.asset}_recovered"] += 1
        counter["skill_rows"] += len(rows)
        context.log.info(f"{row.asset}[{batch_id}] {relpath}: recovered ({len(rows)} skill rows)")

    for batch_id, counter in sorted(touched.items()):
        if not counter["succeeded"]:
            continue
        if counter[f"{DOCUMENT_TEXT}_recovered"]:
            report_change(context, DOCUMENT_TEXT, batch_id, {"documents_added": counter[f"{DOCUMENT_TEXT}_recovered"]})
        report_change(
            context, DOCUMENT_SKILLS, batch_id,
            {"documents_recovered": counter["succeeded"], "skill_rows_added": counter["skill_rows"]},
        )
    summary = {"processed": len(selected), "succeeded": succeeded, "still_failed": still_failed,
               "partitions": len(touched)}
    context.log.info(f"retry of failed items: {summary}")
    return dg.Output(None, metadata=summary)


retry_failed_items_job = operator_job(retry_failed_items, "ingest", description=(
    "Re-process only the open failed items (item_failures) of the given runs or batches."
))
