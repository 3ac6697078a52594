"""review_skills_job: an operator accepts or rejects entries of the `skills_review_queue`.

Accept: the entry's proposed skills are written to `document_skills` for its document with method `reviewed`
(evidence: the document's own text at the proposal's offsets when it had them, else none: offsets -1), and the
entry is closed. Reject: the entry is closed, nothing is written. Both in one transaction per entry; the
decision, reviewer and note stay in the queue table as history.
"""


import json
from typing import Any, Literal

import dagster as dg
import pandas as pd
from pydantic import Field

from assets.documents import STEP_RETRY
from assets.llm_review import ACCEPTED, PENDING, REJECTED
from resources.warehouse import WarehouseResource, delete_rows, read_rows, reflect_table, utc_now_iso, write_frame
from skillatlas.store.tables import DOCUMENT_SKILLS, DOCUMENT_TEXT, SKILL_COLUMNS, SKILLS_REVIEW_QUEUE

REVIEWED_METHOD = "reviewed"


class ReviewDecisionConfig(dg.Config):
    review_ids: list[str] = Field(
        description="review_id values of skills_review_queue entries to decide (see the asset's pending preview)"
    )
    decision: Literal["accept", "reject"] = Field(
        description="accept: write the proposed skills to document_skills (method 'reviewed'); reject: drop them"
    )
    reviewer: str = Field(description="Who decided (kept in the queue table)")
    note: str = Field(default="", description="Why (kept in the queue table)")
    skill_ids: list[str] = Field(
        default=[], description="accept only these proposed skills of the entries (default: all proposed skills)"
    )


def accepted_rows(entry: Any, doc: Any, only: set[str]) -> pd.DataFrame:
    proposals = json.loads(entry.proposed_skills or "[]")
    rows = []
    for p in proposals:
        if only and p["skill_id"] not in only:
            continue
        start, end = int(p.get("start", -1)), int(p.get("end", -1))
        located = 0 <= start < end <= len(doc.text)
        rows.append({
            "batch_id": entry.batch_id, "doc_id": entry.doc_id, "kind": doc.kind, "skill_id": p["skill_id"],
            "label": p["label"], "confidence": float(p["confidence"]), "method": REVIEWED_METHOD,
            # evidence is always the document's own text (or nothing), never model output
            "evidence_start": start if located else -1, "evidence_end": end if located else -1,
            "evidence": doc.text[start:end][:500] if located else "",
            "extractor_version": entry.extractor_version,
        })
    return pd.DataFrame(rows, columns=SKILL_COLUMNS)


@dg.op(tags={"skillatlas/queue": "extraction"}, retry_policy=STEP_RETRY, out=dg.Out(dg.Nothing))
def decide_reviews(
    context: dg.OpExecutionContext, config: ReviewDecisionConfig, warehouse: WarehouseResource
) -> dg.Output[None]:
    """Accept or reject pending review entries (validated first: unknown or already decided ids fail)."""
    if not config.review_ids:
        raise dg.Failure("give at least one review_id", allow_retries=False)
    if not config.reviewer.strip():
        raise dg.Failure("reviewer must not be empty", allow_retries=False)
    queue = warehouse.read_table(SKILLS_REVIEW_QUEUE, {"review_id": list(config.review_ids)})
    found = set(queue["review_id"]) if not queue.empty else set()
    unknown = sorted(set(config.review_ids) - found)
    if unknown:
        raise dg.Failure(f"unknown review id(s) {unknown} in {SKILLS_REVIEW_QUEUE}", allow_retries=False)
    decided = sorted(queue.loc[queue["status"] != PENDING, "review_id"])
    if decided:
        raise dg.Failure(f"review id(s) {decided} are already decided", allow_retries=False)
    docs = warehouse.read_table(DOCUMENT_TEXT, {"doc_id": sorted(set(queue["doc_id"]))}).set_index("doc_id")
    status = ACCEPTED if config.decision == "accept" else REJECTED
    only = set(config.skill_ids)
    written = 0
    for entry in queue.itertuples(index=False):
        rows = pd.DataFrame(columns=SKILL_COLUMNS)
        if status == ACCEPTED:
            if entry.doc_id not in docs.index:
                raise dg.Failure(f"document {entry.doc_id} of review {entry.review_id} no longer exists",
                                 allow_retries=False)
            rows = accepted_rows(entry, docs.loc[entry.doc_id], only)
        with warehouse.engine.begin() as conn:
            if not rows.empty:
                if reflect_table(conn, DOCUMENT_SKILLS) is not None:
                    delete_rows(conn, DOCUMENT_SKILLS, {"doc_id": entry.doc_id, "skill_id": list(rows["skill_id"])})
                write_frame(conn, DOCUMENT_SKILLS, rows)
            table = reflect_table(conn, SKILLS_REVIEW_QUEUE)
            assert table is not None
            conn.execute(
                table.update().where(table.c.review_id == entry.review_id, table.c.status == PENDING).values(
                    status=status, decided_at=utc_now_iso(), decided_by=config.reviewer, note=config.note)
            )
            current = read_rows(conn, SKILLS_REVIEW_QUEUE, {"review_id": entry.review_id})
        written += len(rows)
        if not rows.empty:
            context.log_event(dg.AssetMaterialization(
                asset_key=DOCUMENT_SKILLS, partition=str(entry.batch_id),
                description=f"review {entry.review_id} accepted by {config.reviewer} (run {context.run_id[:8]})",
                metadata={"review_id": entry.review_id, "skills_added": len(rows), "run_id": context.run_id},
            ))
        context.log.info(f"review {entry.review_id}: {current.iloc[0]['status']}")
    context.log_event(dg.AssetMaterialization(
        asset_key=SKILLS_REVIEW_QUEUE, description=f"{len(queue)} entr(y/ies) {status} by {config.reviewer}",
        metadata={"decided": len(queue), "decision": status, "skills_written": written},
    ))
    return dg.Output(None, metadata={"decided": len(queue), "decision": status, "skills_written": written})


@dg.job(
    tags={"skillatlas/queue": "extraction", "skillatlas/operator": "true"},
    description="Accept or reject entries of skills_review_queue (AI output a human must check).",
)
def review_skills_job() -> None:
    decide_reviews()
