"""Offline-first cascade, the offline candidate retriever, and ``build_extractor_from_env``."""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from skillatlas.errors import ErrorKind, ItemError
from skillatlas.extract.llm.cache import CACHE_FILENAME, LLMCache
from skillatlas.extract.llm.config import LLMConfig, LLMStats
from skillatlas.extract.llm.openai_extractor import OpenAIExtractor

if TYPE_CHECKING:
    import pandas as pd

    from skillatlas.extract.offline import SkillMention

__all__ = ["CascadeExtractor", "MissingAPIKeyError", "OfflineCandidates", "build_extractor_from_env"]

log = logging.getLogger(__name__)


class _Offline(Protocol):
    version: str

    def extract(self, text: str) -> list[SkillMention]: ...

    def rank(self, sentence: str, k: int = 10) -> list[tuple[str, float]]: ...


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

    def __init__(self, offline: _Offline, taxonomy: pd.DataFrame, *, max_candidates: int = 60,
                 per_sentence_k: int = 5, max_sentences: int = 300) -> None:
        self.offline = offline
        self.labels: dict[str, str] = dict(zip(taxonomy["skill_id"], taxonomy["label"], strict=True))
        self.max_candidates = max_candidates
        self.per_sentence_k = per_sentence_k
        self.max_sentences = max_sentences
        self._lock = threading.Lock()

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

    LLM failure: with ``fallback_to_offline=True`` (default) the document keeps its offline mentions, is not
    in ``failures``, is counted in ``LLMStats.llm_fallbacks`` (the call's and the extractor's cumulative
    stats) and journalled in ``llm.journal`` (``fallback=True``, with the error) so that the Dagster layer
    records it in the item ledger; with ``False`` it is a failure like in :class:`OpenAIExtractor`.
    ``results`` and ``failures`` are always disjoint.
    """

    def __init__(self, offline: _Offline, llm: OpenAIExtractor, threshold: float = 0.75, *,
                 min_confident: int = 1, fallback_to_offline: bool = True) -> None:
        self.offline = offline
        self.llm = llm
        self.threshold = threshold
        self.min_confident = min_confident
        self.fallback_to_offline = fallback_to_offline
        self.version = f"cascade({getattr(offline, 'version', '?')}+{llm.version}:{llm.config.model})"

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

    def extract_many(
        self, docs: Sequence[tuple[str, str]], *, max_workers: int | None = None
    ) -> tuple[dict[str, list[SkillMention]], dict[str, ItemError], LLMStats]:
        results: dict[str, list[SkillMention]] = {}
        failures: dict[str, ItemError] = {}
        routed: list[tuple[str, str]] = []
        for doc_id, text in docs:
            try:
                mentions = self.offline.extract(text)
            except ItemError as exc:
                failures[doc_id] = exc
                continue
            except Exception as exc:  # never let one document break the batch
                msg = f"offline extraction: {type(exc).__name__}: {exc}"
                failures[doc_id] = ItemError(ErrorKind.MODEL_ERROR, msg)
                continue
            results[doc_id] = mentions
            if self.needs_llm(mentions):
                routed.append((doc_id, text))
        text_of = dict(routed)
        llm_results, llm_failures, stats = self.llm.extract_many(routed, max_workers=max_workers)
        stats.extra["routed_to_llm"] = len(routed)
        stats.extra["offline_only"] = len(results) - len(routed)
        for doc_id, mentions in llm_results.items():
            results[doc_id] = self.merge(results[doc_id], mentions)
        for doc_id, error in llm_failures.items():
            if self.fallback_to_offline:
                stats.llm_fallbacks += 1
                self.llm.count(llm_fallbacks=1)
                self.llm.journal.update(text_of[doc_id], fallback=True)
                log.warning("LLM step failed for %s, keeping offline mentions: %s", doc_id, error)
            else:
                results.pop(doc_id, None)
                failures[doc_id] = error
        return results, failures, stats

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


# --------------------------------------------------------------------------------------------- env


class MissingAPIKeyError(RuntimeError):
    """OPENAI_API_KEY is required but not set."""


def _env_float(name: str, default: float | None) -> float | None:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if raw.lower() in ("none", "off", "0"):
        return None
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {raw!r}") from None


def default_cache_path() -> Path | None:
    """``SKILLATLAS_LLM_CACHE`` (file or directory; "off" disables), else ``~/.cache/skillatlas``."""
    raw = os.environ.get("SKILLATLAS_LLM_CACHE", "").strip()
    if raw.lower() in ("off", "none", "0"):
        return None
    return Path(raw).expanduser() if raw else Path.home() / ".cache" / "skillatlas" / CACHE_FILENAME


def build_extractor_from_env(kind: str, taxonomy: pd.DataFrame | None = None, *, offline: Any = None) -> Any:
    """Build the extractor named ``kind`` ("offline", "openai" or "cascade") from environment variables.

    * ``OPENAI_API_KEY`` (required for openai/cascade), ``OPENAI_BASE_URL`` (optional, OpenAI-compatible
      server), ``SKILLATLAS_LLM_MODEL`` (default ``gpt-4o-mini``)
    * optional: ``SKILLATLAS_LLM_RPM``, ``SKILLATLAS_LLM_TPM``, ``SKILLATLAS_LLM_MIN_CONFIDENCE``,
      ``SKILLATLAS_LLM_TIMEOUT_S``, ``SKILLATLAS_LLM_CACHE`` (path or "off"), ``SKILLATLAS_CASCADE_THRESHOLD``

    ``taxonomy`` defaults to ``build_taxonomy()`` of the shipped reference data; ``offline`` (an already built
    ``OfflineExtractor`` for that taxonomy) avoids building a second one (and re-embedding the taxonomy).
    The API key is checked first, before anything expensive is loaded.
    """
    kind = kind.strip().lower()
    if kind not in ("offline", "openai", "cascade"):
        raise ValueError(f"unknown extractor kind {kind!r}: expected 'offline', 'openai' or 'cascade'")
    api_key = os.environ.get("OPENAI_API_KEY", "").strip()
    if kind != "offline" and not api_key:
        raise MissingAPIKeyError(
            f"OPENAI_API_KEY is not set: the {kind!r} extractor calls the OpenAI API. Export OPENAI_API_KEY "
            "(and optionally OPENAI_BASE_URL for an OpenAI-compatible server, SKILLATLAS_LLM_MODEL for the "
            "model), or use the 'offline' extractor."
        )
    if taxonomy is None:
        from skillatlas.reference.sources import load_esco_skills, load_onet_technology_skills
        from skillatlas.reference.taxonomy import build_taxonomy

        taxonomy = build_taxonomy(load_esco_skills(), load_onet_technology_skills())
    if offline is None:
        from skillatlas.extract.embeddings import MiniLMEmbedder
        from skillatlas.extract.offline import OfflineExtractor

        offline = OfflineExtractor(taxonomy, MiniLMEmbedder())
    if kind == "offline":
        return offline
    defaults = LLMConfig()
    config = LLMConfig(
        model=os.environ.get("SKILLATLAS_LLM_MODEL", "").strip() or defaults.model,
        requests_per_minute=_env_float("SKILLATLAS_LLM_RPM", defaults.requests_per_minute),
        tokens_per_minute=_env_float("SKILLATLAS_LLM_TPM", defaults.tokens_per_minute),
        min_confidence=_env_float("SKILLATLAS_LLM_MIN_CONFIDENCE", defaults.min_confidence) or 0.0,
        timeout_s=_env_float("SKILLATLAS_LLM_TIMEOUT_S", defaults.timeout_s) or defaults.timeout_s,
    )
    cache_path = default_cache_path()
    llm = OpenAIExtractor(
        OfflineCandidates(offline, taxonomy, max_candidates=config.max_candidates),
        config,
        api_key=api_key,
        base_url=os.environ.get("OPENAI_BASE_URL", "").strip() or None,
        cache=LLMCache(cache_path) if cache_path is not None else None,
    )
    if kind == "openai":
        return llm
    threshold = _env_float("SKILLATLAS_CASCADE_THRESHOLD", 0.75)
    return CascadeExtractor(offline, llm, threshold=threshold if threshold is not None else 0.75)
