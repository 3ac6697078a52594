"""LLM skill extraction: OpenAI extractor, offline-first cascade, rate limiter and content-hash cache.

Public API (see docs in each module)::

    LLMConfig, LLMStats                      configuration / usage counters
    RateLimiter                              thread-safe RPM + TPM token buckets
    LLMCache(path)                           SQLite content-hash cache (get/put)
    OpenAIExtractor(candidates, config, api_key=..., base_url=..., cache=..., limiter=...)
        .extract(text) / .extract_many(docs) / .rank(sentence, k) / .stats
    CascadeExtractor(offline, llm, threshold)
    DocOutcome / OutcomeJournal / ground_items   grounding of answers, per-document LLM outcomes
    OfflineCandidates(offline, taxonomy)     candidates(text) -> [(skill_id, label)]
    build_extractor_from_env(kind, taxonomy=None)
"""

from skillatlas.extract.llm.cache import LLMCache, cache_key
from skillatlas.extract.llm.cascade import (
    CascadeExtractor,
    MissingAPIKeyError,
    OfflineCandidates,
    build_extractor_from_env,
    default_cache_path,
)
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
    "MissingAPIKeyError",
    "OfflineCandidates",
    "OpenAIExtractor",
    "OutcomeJournal",
    "RateLimiter",
    "build_extractor_from_env",
    "build_messages",
    "cache_key",
    "chunk_text",
    "default_cache_path",
    "estimate_tokens",
    "ground_items",
    "locate",
]
