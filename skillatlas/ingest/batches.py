"""Processing of one upload batch (the unit of work): parse its files, extract their skills.

Pure domain code (no Dagster): the document assets and the operator jobs call these functions and commit
what they return. Each function handles one batch, turns every item-level problem into an `ItemFailure`
(one bad file never sinks its batch) and reports progress every `PROGRESS_EVERY` documents, so a user
watching a batch sees it move instead of minutes of silence.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from skillatlas.errors import ItemError, classify_exception

# Version of the text a batch's parse produces: bump it when parsing changes, so committed batches are redone.
PARSER_VERSION = "text-1"
PROGRESS_EVERY = 10  # a progress line every this many documents

T = TypeVar("T")
R = TypeVar("R")

# progress(done, total, failed): called every PROGRESS_EVERY documents and at the end of the batch
Progress = Callable[[int, int, int], None]


@dataclass(frozen=True)
class ItemFailure:
    """One failed item of a batch: what the ledger (`item_failures`) records."""

    partition: str
    item: str
    error_kind: str
    message: str
    transient: bool = False
    attempts: int = 1


@dataclass
class BatchResult:
    """Rows to commit for one batch, its failed items, and its counts (the batch's own metadata)."""

    batch_id: str
    rows: list[dict[str, object]] = field(default_factory=list)
    failures: list[ItemFailure] = field(default_factory=list)
    processed: int = 0
    without_skills: int = 0  # extraction only: documents that yielded no skill

    @property
    def failed(self) -> int:
        return len(self.failures)

    @property
    def succeeded(self) -> int:
        return self.processed - self.failed


class ManifestItem(Protocol):
    batch_id: str
    doc_id: str
    relpath: str
    kind: str
    sha256: str


class TextItem(Protocol):
    batch_id: str
    doc_id: str
    relpath: str
    kind: str
    text: str


def batch_fingerprint(pairs: Iterable[tuple[str, str]]) -> str:
    """A short digest of a batch's (doc id, content hash) pairs: it changes whenever the batch's input does,
    so a commit made for other input is never mistaken for this one."""
    digest = hashlib.sha256()
    for doc_id, sha256 in sorted(pairs):
        digest.update(f"{doc_id}\t{sha256}\n".encode())
    return digest.hexdigest()[:16]


def failure_from(batch_id: str, item: str, exc: Exception) -> ItemFailure:
    """The ledger entry for an exception raised while processing one item."""
    error = exc if isinstance(exc, ItemError) else classify_exception(exc)
    return ItemFailure(batch_id, item, str(error.kind), error.message, error.transient)


def _progress(progress: Progress | None, done: int, total: int, failed: int) -> None:
    if progress is not None and (done % PROGRESS_EVERY == 0 or done == total):
        progress(done, total, failed)


def text_row(item: Any, parsed: Any) -> dict[str, object]:
    """The `document_text` row of one parsed manifest item."""
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


def occurrences_json(mention: Any) -> str:
    """Every (start, end) evidence span of a mention as a JSON list of ``[start, end]`` pairs, in text order
    (``SkillMention.occurrences``; a mention without them, e.g. from the LLM, lists its one evidence)."""
    spans = getattr(mention, "occurrences", ()) or [(mention.start, mention.end)]
    return json.dumps(sorted([int(a), int(b)] for a, b in spans), separators=(",", ":"))


def skill_rows(doc: Any, mentions: Sequence[Any], version: str) -> list[dict[str, object]]:
    """The `document_skills` rows of one document (columns: ``skillatlas.store.tables.SKILL_COLUMNS``;
    ``occurrences``: see :func:`occurrences_json`)."""
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
            "occurrences": occurrences_json(m),
            "extractor_version": version,
        }
        for m in mentions
    ]


def _each_item(
    batch_id: str,
    items: Sequence[T],
    name: Callable[[T], str],
    work: Callable[[T], R],
    record: Callable[[BatchResult, T, R], None],
    progress: Progress | None,
) -> BatchResult:
    """`work(item)` for every item of one batch, in order; its result goes to `record`, and an exception
    becomes the item's `ItemFailure` (named by `name(item)`): one bad item must never sink its batch."""
    result = BatchResult(batch_id)
    for item in items:
        result.processed += 1
        try:
            done = work(item)
        except Exception as exc:  # noqa: BLE001 - one bad item must never sink its batch
            result.failures.append(failure_from(batch_id, name(item), exc))
        else:
            record(result, item, done)
        _progress(progress, result.processed, len(items), result.failed)
    return result


def parse_batch(
    batch_id: str,
    items: Sequence[ManifestItem],
    parse: Callable[[Any], Any],
    progress: Progress | None = None,
) -> BatchResult:
    """Parse every manifest item of one batch (`parse(item)` returns a parsed document or raises)."""

    def record(result: BatchResult, item: ManifestItem, parsed: Any) -> None:
        result.rows.append(text_row(item, parsed))

    ordered = sorted(items, key=lambda item: item.relpath)
    return _each_item(batch_id, ordered, lambda item: item.relpath, parse, record, progress)


def extract_batch(
    batch_id: str,
    docs: Sequence[TextItem],
    extract: Callable[[str], Sequence[Any]],
    version: str,
    progress: Progress | None = None,
) -> BatchResult:
    """Extract the skills of every document of one batch (`extract(text)` returns mentions or raises)."""

    def record(result: BatchResult, doc: TextItem, mentions: Sequence[Any]) -> None:
        if not mentions:
            result.without_skills += 1
        result.rows.extend(skill_rows(doc, mentions, version))

    ordered = sorted(docs, key=lambda doc: doc.doc_id)
    return _each_item(batch_id, ordered, lambda doc: doc.relpath, lambda doc: extract(doc.text), record, progress)
