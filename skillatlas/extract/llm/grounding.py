"""Grounding of model answers, and what happened to each document on the LLM path.

A model answer is untrusted text: a skill it names is kept only when (a) its ``skill_id`` is one of the candidates
offered and (b) its ``evidence`` quote is located in the document. What is kept is never the model's text: the
label is the candidate's, and the evidence is the document's own characters at the located offsets. Everything
else is dropped and counted; dropped-but-plausible skills (a candidate id whose quote was not found) are kept,
*without* any model text, as review proposals.

:class:`DocOutcome` records, per document, what the LLM path did (failure after retries, offline fallback,
ungrounded or grey-zone skills); :class:`OutcomeJournal` keeps them keyed by the document text's hash so the
Dagster layer can turn them into ledger rows and review-queue entries without changing how it calls
``extract(text)``.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from skillatlas.errors import ItemError

__all__ = [
    "DocOutcome",
    "OutcomeJournal",
    "REVIEW_GREY_ZONE",
    "REVIEW_INVALID_OUTPUT",
    "REVIEW_UNGROUNDED",
    "ground_items",
    "locate",
    "text_key",
]

REVIEW_UNGROUNDED = "ungrounded"        # the model named a candidate skill but its quote is not in the document
REVIEW_INVALID_OUTPUT = "invalid_output"  # the model's answers were not valid JSON / schema after every retry
REVIEW_GREY_ZONE = "grey_zone"          # grounded, but the confidence lies in the configured review zone

_QUOTES = "\"'“”‘’«»`"
MIN_EVIDENCE_CHARS = 3  # shorter quotes ("a", "of") are found anywhere and ground nothing


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def locate(haystack: str, needle: str) -> tuple[int, int] | None:
    """Span of ``needle`` in ``haystack``: exact, else case- and whitespace-insensitive. A quote with an
    ellipsis is located by its longest part. ``None`` when not found or too short to mean anything."""
    needle = needle.strip().strip(_QUOTES).strip()
    for sep in ("...", "…"):
        if sep in needle:
            needle = max(needle.split(sep), key=len).strip()
    if len(needle) < MIN_EVIDENCE_CHARS:
        return None
    i = haystack.find(needle)
    if i >= 0:
        return i, i + len(needle)
    tokens = needle.split()
    if not tokens:
        return None
    m = re.search(r"\s+".join(re.escape(t) for t in tokens), haystack, flags=re.IGNORECASE)
    return (m.start(), m.end()) if m else None


def ground_items(chunk: str, items: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Validated model items (``skill_id`` already checked against the candidates, ``label`` the candidate's)
    -> grounded records ``{skill_id, label, confidence, start, end, grounded}`` with offsets into ``chunk``.

    The model's evidence string is used only to *search* the chunk and is then discarded: records carry
    offsets, never model text, so they are safe to cache and store. Ungrounded items keep ``start = end = -1``
    and ``grounded = False``.
    """
    out: list[dict[str, Any]] = []
    for item in items:
        span = locate(chunk, str(item.get("evidence", "")))
        record = {"skill_id": str(item["skill_id"]), "label": str(item["label"]),
                  "confidence": float(item["confidence"]), "start": -1, "end": -1, "grounded": span is not None}
        if span is not None:
            record["start"], record["end"] = span
        out.append(record)
    return out


@dataclass
class DocOutcome:
    """What the LLM path did with one document (only documents that reached it have one)."""

    error: ItemError | None = None          # the LLM call failed after its retries
    fallback: bool = False                  # ... and the offline mentions were kept instead (cascade)
    invalid_output: bool = False            # the failure was an invalid model answer
    ungrounded: list[dict[str, Any]] = field(default_factory=list)  # {skill_id, label, confidence}
    grey_zone: list[dict[str, Any]] = field(default_factory=list)   # {skill_id, label, confidence, start, end}
    dropped_not_candidate: int = 0

    def review_reasons(self) -> list[str]:
        reasons = []
        if self.invalid_output:
            reasons.append(REVIEW_INVALID_OUTPUT)
        if self.ungrounded or self.dropped_not_candidate:
            reasons.append(REVIEW_UNGROUNDED)
        if self.grey_zone:
            reasons.append(REVIEW_GREY_ZONE)
        return reasons

    def proposals(self, reason: str | None = None) -> list[dict[str, Any]]:
        """Skills a reviewer may accept: grey-zone mentions (with offsets) and ungrounded candidates (without,
        ``start = end = -1``); ``reason`` limits them to one review reason."""
        pool = {REVIEW_GREY_ZONE: self.grey_zone, REVIEW_UNGROUNDED: self.ungrounded,
                REVIEW_INVALID_OUTPUT: []}.get(reason or "", [*self.grey_zone, *self.ungrounded])
        seen: dict[str, dict[str, Any]] = {}
        for p in pool:
            if p["skill_id"] not in seen:
                seen[p["skill_id"]] = {"skill_id": p["skill_id"], "label": p["label"],
                                       "confidence": round(float(p["confidence"]), 4),
                                       "start": int(p.get("start", -1)), "end": int(p.get("end", -1))}
        return list(seen.values())


class OutcomeJournal:
    """Thread-safe ``text hash -> DocOutcome``. Identical texts share one entry (they get the same answer)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, DocOutcome] = {}

    def record(self, text: str, outcome: DocOutcome) -> None:
        with self._lock:
            self._items[text_key(text)] = outcome

    def get(self, text: str) -> DocOutcome | None:
        with self._lock:
            return self._items.get(text_key(text))

    def update(self, text: str, **changes: Any) -> DocOutcome:
        with self._lock:
            outcome = self._items.setdefault(text_key(text), DocOutcome())
            for name, value in changes.items():
                setattr(outcome, name, value)
            return outcome

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)
