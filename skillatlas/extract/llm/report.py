"""From per-document LLM outcomes to ledger rows, review-queue entries and counters (plain data, no Dagster).

The Dagster layer calls :func:`outcome_report` after an extraction loop: it never changes how documents are
extracted, it only reads what the extractor journalled about each of them.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from skillatlas.extract.llm.grounding import DocOutcome, OutcomeJournal

__all__ = ["DocRef", "OutcomeReport", "journal_of", "outcome_report", "review_id"]


@dataclass(frozen=True)
class DocRef:
    batch_id: str
    doc_id: str
    item: str   # the ledger's item name (the upload's relative path)
    text: str


@dataclass
class OutcomeReport:
    # ledger rows for documents that kept offline skills although their LLM call failed after its retries
    # (documents the extractor raised for are already failures of the caller's loop)
    failures: list[dict[str, Any]] = field(default_factory=list)
    reviews: list[dict[str, Any]] = field(default_factory=list)   # one per (document, reason)
    counts: dict[str, int] = field(default_factory=dict)


def journal_of(engine: object) -> OutcomeJournal | None:
    """The outcome journal of an OpenAI extractor or a cascade (None for the offline extractor)."""
    from skillatlas.extract.base import LLMBacked

    return engine.journal if isinstance(engine, LLMBacked) else None


def review_id(batch_id: str, doc_id: str, reason: str, run_id: str) -> str:
    return hashlib.sha256(f"{batch_id}\x1f{doc_id}\x1f{reason}\x1f{run_id}".encode()).hexdigest()[:16]


def outcome_report(journal: OutcomeJournal | None, docs: Iterable[DocRef], *, run_id: str) -> OutcomeReport:
    report = OutcomeReport()
    counts: Counter[str] = Counter()
    if journal is None:
        return report
    for doc in docs:
        outcome: DocOutcome | None = journal.get(doc.text)
        if outcome is None:
            continue  # never reached the LLM (offline only, or no candidates)
        counts["llm_documents"] += 1
        if outcome.error is not None:
            counts["llm_failed_documents"] += 1
            if outcome.fallback:
                counts["llm_fallback_documents"] += 1
                report.failures.append({
                    "batch_id": doc.batch_id, "item": doc.item, "error_kind": outcome.error.kind.value,
                    "message": f"LLM failed, offline skills kept: {outcome.error.message}",
                    "transient": outcome.error.transient,
                })
        counts["llm_dropped_ungrounded"] += len(outcome.ungrounded)
        counts["llm_dropped_not_candidate"] += outcome.dropped_not_candidate
        for reason in outcome.review_reasons():
            counts[f"review_{reason}"] += 1
            report.reviews.append({
                "review_id": review_id(doc.batch_id, doc.doc_id, reason, run_id),
                "batch_id": doc.batch_id, "doc_id": doc.doc_id, "item": doc.item, "reason": reason,
                "proposed": outcome.proposals(reason),
            })
    report.counts = dict(counts)
    return report
