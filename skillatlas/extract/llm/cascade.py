"""Offline-first cascade and the offline candidate retriever (built by :mod:`skillatlas.extract.factory`)."""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from skillatlas.errors import ItemError
from skillatlas.extract.base import OfflineEngine
from skillatlas.extract.llm.config import LLMStats
from skillatlas.extract.llm.grounding import OutcomeJournal
from skillatlas.extract.llm.openai_extractor import OpenAIExtractor

if TYPE_CHECKING:
    import pandas as pd

    from skillatlas.extract.offline import SkillMention

__all__ = ["CascadeExtractor", "OfflineCandidates"]

log = logging.getLogger(__name__)


_SENTENCE = re.compile(r"[^\n.!?]+(?:[.!?]+|$)")


def _sentences(text: str, min_chars: int = 12) -> list[str]:
    return [s for m in _SENTENCE.finditer(text) if len(s := m.group().strip()) >= min_chars]


class OfflineCandidates:
    """``candidates(text) -> [(skill_id, label)]`` built from an offline extractor.

    Scores every skill by the best of: the offline extractor's mentions in the text, and ``rank(sentence,
    per_sentence_k)`` over the text's first ``max_sentences`` sentences (the semantic retriever catches
    paraphrases the phrase matcher misses). Returns the top ``max_candidates`` by score. Thread-safe as long
    as the offline extractor is (calls are serialised by a lock to be safe with onnxruntime sessions).
    """

    def __init__(self, offline: OfflineEngine, taxonomy: pd.DataFrame, *, max_candidates: int = 60,
                 per_sentence_k: int = 5, max_sentences: int = 300) -> None:
        self.offline = offline
        self.labels: dict[str, str] = dict(zip(taxonomy["skill_id"], taxonomy["label"], strict=True))
        digest = hashlib.sha256("".join(f"{sid}\t{label}\n" for sid, label in self.labels.items()).encode())
        self._labels_fp = digest.hexdigest()[:10]
        self.max_candidates = max_candidates
        self.per_sentence_k = per_sentence_k
        self.max_sentences = max_sentences
        self._lock = threading.Lock()

    @property
    def version(self) -> str:
        """The offline extractor's version (taxonomy ids, model) and the fingerprint of the labels in prompts."""
        return f"{self.offline.version}:labels-{self._labels_fp}"

    def __call__(self, text: str) -> list[tuple[str, str]]:
        scores: dict[str, float] = {}
        with self._lock:
            for m in self.offline.extract(text):
                scores[m.skill_id] = max(scores.get(m.skill_id, 0.0), m.confidence)
            if self.per_sentence_k > 0:
                for sentence in _sentences(text)[: self.max_sentences]:
                    for sid, score in self.offline.rank(sentence, self.per_sentence_k):
                        scores[sid] = max(scores.get(sid, 0.0), float(score))
        ranked = sorted((s for s in scores if s in self.labels), key=lambda s: -scores[s])
        return [(sid, self.labels[sid]) for sid in ranked[: self.max_candidates]]


class CascadeExtractor:
    """Offline first; the LLM only for documents the offline extractor is unsure about.

    Routing rule (document level): a document goes to the LLM when fewer than ``min_confident`` offline
    mentions have ``confidence >= threshold`` (with the default 1: when its *best* offline confidence is below
    the threshold, or nothing was found). Sentence-level routing was rejected: most sentences of a syllabus
    or job ad name no skill, so nearly every document would be routed anyway.

    Merge: every offline mention is kept (it has exact offsets; its confidence is raised to the LLM's when
    the LLM is more confident); skills only the LLM found are added with ``method="llm"``.

    LLM failure: with ``fallback_to_offline=True`` (default) the document keeps its offline mentions, is
    counted in ``LLMStats.llm_fallbacks`` (the call's and the extractor's cumulative
    stats) and journalled in ``llm.journal`` (``fallback=True``, with the error) so that the Dagster layer
    records it in the item ledger; with ``False`` it is a failure like in :class:`OpenAIExtractor`.
    """

    def __init__(self, offline: OfflineEngine, llm: OpenAIExtractor, threshold: float = 0.75, *,
                 min_confident: int = 1, fallback_to_offline: bool = True) -> None:
        self.offline = offline
        self.llm = llm
        self.threshold = threshold
        self.min_confident = min_confident
        self.fallback_to_offline = fallback_to_offline

    @property
    def version(self) -> str:
        """Offline and LLM versions (model, prompt, taxonomy) and the routing threshold."""
        return f"cascade@{self.threshold:g}/{self.min_confident}({self.offline.version}+{self.llm.version})"

    @property
    def journal(self) -> OutcomeJournal:
        return self.llm.journal

    def __repr__(self) -> str:
        return f"CascadeExtractor(threshold={self.threshold}, llm={self.llm!r})"

    @property
    def stats(self) -> LLMStats:
        return self.llm.stats

    def needs_llm(self, mentions: Sequence[SkillMention]) -> bool:
        return sum(1 for m in mentions if m.confidence >= self.threshold) < self.min_confident

    @staticmethod
    def merge(offline: Sequence[SkillMention], llm: Sequence[SkillMention]) -> list[SkillMention]:
        merged: dict[str, SkillMention] = {m.skill_id: m for m in offline}
        for m in llm:
            prev = merged.get(m.skill_id)
            if prev is None:
                merged[m.skill_id] = m
            elif m.confidence > prev.confidence:
                merged[m.skill_id] = replace(prev, confidence=m.confidence)
        return sorted(merged.values(), key=lambda m: (-m.confidence, m.start))

    def extract(self, text: str) -> list[SkillMention]:
        offline = self.offline.extract(text)
        if not self.needs_llm(offline):
            return offline
        try:
            return self.merge(offline, self.llm.extract(text))
        except ItemError as exc:
            if not self.fallback_to_offline:
                raise
            # counted in the extractor's cumulative stats (batch metadata) and journalled, so the Dagster layer
            # writes a ledger row for the document although it keeps its offline skills
            self.llm.count(llm_fallbacks=1)
            self.llm.journal.update(text, fallback=True)
            log.warning("LLM step failed, keeping offline mentions: %s", exc)
            return offline

    def rank(self, sentence: str, k: int = 10) -> list[tuple[str, float]]:
        offline = self.offline.rank(sentence, k)
        if offline and offline[0][1] >= self.threshold:
            return offline
        try:
            return self.llm.rank(sentence, k)
        except ItemError as exc:
            if not self.fallback_to_offline:
                raise
            log.warning("LLM rank failed, using the offline ranking: %s", exc)
            return offline
