"""LLM skill extraction: OpenAI extractor, offline-first cascade, rate limiter and content-hash cache.

Public API (see docs in each module)::

    LLMConfig, LLMStats                      configuration / usage counters
    RateLimiter                              thread-safe RPM + TPM token buckets
    LLMCache(path)                           SQLite content-hash cache (get/put)
    OpenAIExtractor(candidates, config, api_key=..., base_url=..., cache=..., limiter=...)
        .extract(text) / .rank(sentence, k) / .stats / .journal / .version
    CascadeExtractor(offline, llm, threshold)
    DocOutcome / OutcomeJournal / ground_items   grounding of answers, per-document LLM outcomes
    OfflineCandidates(offline, taxonomy)     candidates(text) -> [(skill_id, label)]

Engines are built by :func:`skillatlas.extract.factory.build_extractor` (pipeline, operator jobs and CLI).
"""

from skillatlas.extract.llm.cache import LLMCache, cache_key
from skillatlas.extract.llm.cascade import CascadeExtractor, OfflineCandidates
from skillatlas.extract.llm.config import DEFAULT_PROMPT_TEMPLATE, SYSTEM_GUARD, LLMConfig, LLMStats
from skillatlas.extract.llm.grounding import DocOutcome, OutcomeJournal, ground_items, locate
from skillatlas.extract.llm.openai_extractor import (
    RESPONSE_SCHEMA,
    CandidateFn,
    OpenAIExtractor,
    build_messages,
    chunk_text,
)
from skillatlas.extract.llm.ratelimit import RateLimiter, estimate_tokens

__all__ = [
    "DEFAULT_PROMPT_TEMPLATE",
    "RESPONSE_SCHEMA",
    "SYSTEM_GUARD",
    "CandidateFn",
    "CascadeExtractor",
    "DocOutcome",
    "LLMCache",
    "LLMConfig",
    "LLMStats",
    "OfflineCandidates",
    "OpenAIExtractor",
    "OutcomeJournal",
    "RateLimiter",
    "build_messages",
    "cache_key",
    "chunk_text",
    "estimate_tokens",
    "ground_items",
    "locate",
]
