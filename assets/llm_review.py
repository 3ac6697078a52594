"""The LLM path's visible side: ledger rows for LLM failures, and the `skills_review_queue` for humans.

`record_llm_outcomes` is called by extraction steps after their loop: it reads what the LLM extractor journalled
per document (skillatlas.extract.llm.report) and returns ledger rows (a document whose LLM call failed after its retries
is a ledger row even when it kept offline skills) plus metadata, and writes review entries (invalid or
ungrounded model output, confidence in the grey zone) to the `skills_review_queue` table. The
`skills_review_queue` asset shows the open entries in the UI; `review_skills_job` accepts or rejects them.
"""


from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import dagster as dg
import pandas as pd

from assets.catalog import DATA_OWNERS, table_kinds, table_metadata
from resources.warehouse import WarehouseResource, delete_rows, dumps, utc_now_iso, write_frame
from skillatlas.extract.base import Extractor
from skillatlas.extract.llm.report import DocRef, journal_of, outcome_report
from skillatlas.ingest.batches import ItemFailure
from skillatlas.store.tables import DOCUMENT_SKILLS, REVIEW_COLUMNS, SKILLS_REVIEW_QUEUE

PENDING, ACCEPTED, REJECTED = "pending", "accepted", "rejected"


def run_url(run_id: str) -> str:
    """Path of the run's page in the Dagster UI (relative to the webserver's address)."""
    return f"/runs/{run_id}"


def review_frame(reviews: Iterable[dict[str, Any]], run_id: str, version: str) -> pd.DataFrame:
    now = utc_now_iso()
    rows = [
        {
            "review_id": r["review_id"], "batch_id": r["batch_id"], "doc_id": r["doc_id"], "item": r["item"],
            "reason": r["reason"], "proposed_skills": dumps(r["proposed"]), "status": PENDING, "run_id": run_id,
            "run_url": run_url(run_id), "extractor_version": version, "created_at": now, "decided_at": None,
            "decided_by": None, "note": None,
        }
        for r in reviews
    ]
    return pd.DataFrame(rows, columns=REVIEW_COLUMNS)


def write_review_entries(
    warehouse: WarehouseResource, doc_ids: Sequence[str], frame: pd.DataFrame
) -> None:
    """Replace the *pending* entries of these documents with `frame` (one transaction). Decided entries stay:
    they are the review history."""
    with warehouse.engine.begin() as conn:
        if doc_ids:
            delete_rows(conn, SKILLS_REVIEW_QUEUE, {"doc_id": list(doc_ids), "status": PENDING})
        write_frame(conn, SKILLS_REVIEW_QUEUE, frame)


def record_llm_outcomes(
    context: dg.AssetExecutionContext | dg.OpExecutionContext,
    warehouse: WarehouseResource,
    engine: Extractor,
    documents: pd.DataFrame,
    version: str,
) -> tuple[list[ItemFailure], dict[str, Any]]:
    """Ledger rows and metadata for the LLM outcomes of `documents` (batch_id, doc_id, relpath, text); writes
    their review entries. Nothing to do (empty results) for the offline extractor."""
    journal = journal_of(engine)
    if journal is None or documents.empty:
        return [], {}
    refs = [DocRef(str(d.batch_id), str(d.doc_id), str(d.relpath), str(d.text))
            for d in documents[["batch_id", "doc_id", "relpath", "text"]].itertuples(index=False)]
    run_id = context.run.run_id
    report = outcome_report(journal, refs, run_id=run_id)
    write_review_entries(warehouse, [r.doc_id for r in refs], review_frame(report.reviews, run_id, version))
    failures = [
        ItemFailure(f["batch_id"], f["item"], f["error_kind"], f["message"], bool(f["transient"]))
        for f in report.failures
    ]
    counts = report.counts
    metadata: dict[str, Any] = {
        "llm_documents": counts.get("llm_documents", 0),
        "llm_failed_documents": counts.get("llm_failed_documents", 0),
        "llm_fallbacks": counts.get("llm_fallback_documents", 0),
        "llm_ungrounded_skills_dropped": counts.get("llm_dropped_ungrounded", 0),
        "review_queued": len(report.reviews),
        "review_by_reason": dg.MetadataValue.json(dict(Counter(r["reason"] for r in report.reviews))),
    }
    if report.reviews:
        context.log.warning(f"{len(report.reviews)} document(s) queued for review in table {SKILLS_REVIEW_QUEUE}")
    return failures, metadata


@dg.asset(
    group_name="documents",
    deps=[DOCUMENT_SKILLS],
    kinds=table_kinds(),
    owners=DATA_OWNERS,
    metadata=table_metadata(SKILLS_REVIEW_QUEUE),
    tags={"skillatlas/queue": "reference"},
    automation_condition=dg.AutomationCondition.eager(),
)
def skills_review_queue(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Documents whose AI extraction needs a human: invalid model output, skills whose evidence is not in the
    document (ungrounded), or confidence in the review grey zone. One row per document and reason with the
    proposed skills and a link to the run that queued it; accept or reject entries with `review_skills_job`.
    Rows live in the warehouse table `skills_review_queue` (written by the extraction steps); this asset shows
    the open entries."""
    queue = warehouse.read_table(SKILLS_REVIEW_QUEUE)
    pending = queue[queue["status"] == PENDING] if not queue.empty else queue
    preview = pending.sort_values("created_at", ascending=False).head(50) if not pending.empty else pending
    lines = ["| review_id | item | reason | proposed skills | run |", "| --- | --- | --- | --- | --- |"]
    for row in preview.itertuples(index=False):
        lines.append(
            f"| {row.review_id} | {row.item} | {row.reason} | {proposed_labels(row.proposed_skills)} | "
            f"[{str(row.run_id)[:8]}]({row.run_url}) |"
        )
    return dg.MaterializeResult(
        metadata={
            "pending": len(pending),
            "accepted": int((queue["status"] == ACCEPTED).sum()) if not queue.empty else 0,
            "rejected": int((queue["status"] == REJECTED).sum()) if not queue.empty else 0,
            "pending_by_reason": dg.MetadataValue.json(
                dict(Counter(pending["reason"])) if not pending.empty else {}),
            "pending_preview": dg.MetadataValue.md("\n".join(lines)),
            "dagster/row_count": len(queue),
        }
    )


def proposed_labels(raw: object) -> str:
    import json

    try:
        items = json.loads(str(raw))
    except ValueError:
        return ""
    return ", ".join(f"{p['label']} ({p['confidence']:.2f})" for p in items[:6]) + (" …" if len(items) > 6 else "")
