"""The skill extractor a deployment uses: offline (default), OpenAI, or the offline→OpenAI cascade."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from typing import Any

import dagster as dg
import numpy as np
import pandas as pd
from pydantic import Field

_CACHE: dict[str, Any] = {}
_LOCK = threading.Lock()


def taxonomy_fingerprint(taxonomy: pd.DataFrame) -> str:
    digest = hashlib.sha256()
    for skill_id, label in zip(taxonomy["skill_id"], taxonomy["label"], strict=True):
        digest.update(f"{skill_id}\t{label}\n".encode())
    return digest.hexdigest()[:16]


class ExtractorResource(dg.ConfigurableResource):
    """Builds (once per process) the extractor over the current taxonomy.

    `openai_api_key` is meant to be set with `EnvVar("OPENAI_API_KEY")`: Dagster resolves it at run time and
    never shows its value in run config or the UI.
    """

    mode: str = Field(default="offline", description="offline | openai | cascade")
    min_confidence: float = Field(default=0.5, ge=0.0, le=1.0)
    semantic: bool = Field(default=True, description="Use the MiniLM semantic matcher besides phrase matching")
    max_span_tokens: int = Field(
        default=2,
        ge=1,
        le=4,
        description=(
            "Longest sentence window embedded by the semantic matcher. 2 is ~1.7x faster than 4 for a small "
            "loss (R-Precision@5 0.756 vs 0.774 on the TECH validation set)"
        ),
    )
    cascade_threshold: float = Field(
        default=0.75, ge=0.0, le=1.0, description="Documents whose best offline confidence is below go to the LLM"
    )
    openai_api_key: str | None = Field(default=None, description="Set through EnvVar('OPENAI_API_KEY')")
    openai_base_url: str | None = None
    openai_model: str = "gpt-4o-mini"
    requests_per_minute: int = Field(default=300, gt=0)
    tokens_per_minute: int = Field(default=200_000, gt=0)
    cache_dir: str | None = Field(default=None, description="LLM response cache folder")
    prompt_template: str | None = Field(
        default=None, description="Per-organisation prompt; must contain {candidates}. Default: the built-in one"
    )
    review_zone_low: float | None = Field(
        default=None, ge=0.0, le=1.0,
        description="Grey zone start: LLM skills with confidence in [low, high) go to skills_review_queue instead "
        "of document_skills (SKILLATLAS_LLM_REVIEW_ZONE=low,high). None: no grey zone",
    )
    review_zone_high: float | None = Field(default=None, ge=0.0, le=1.0, description="Grey zone end (exclusive)")
    llm_mode: str = Field(
        default="sync",
        description="How backfills and re-extraction call the LLM: sync (chat completions, now) or batch (OpenAI "
        "Batch API, 50% price, results within 24 h). From SKILLATLAS_LLM_MODE; sensor-driven uploads always use sync",
    )
    sdk_max_retries: int = Field(
        default=4, ge=0, le=10, description="Retries of the openai SDK for Batch API calls (files, batches)"
    )

    def offline(self, taxonomy: pd.DataFrame, vectors: np.ndarray | None) -> Any:
        from skillatlas.extract.embeddings import MiniLMEmbedder
        from skillatlas.extract.offline import OfflineExtractor

        key = f"offline:{taxonomy_fingerprint(taxonomy)}:{self.semantic}:{self.min_confidence}:{self.max_span_tokens}"
        with _LOCK:
            if key not in _CACHE:
                embedder = MiniLMEmbedder() if self.semantic and vectors is not None else None
                _CACHE[key] = OfflineExtractor(
                    taxonomy,
                    embedder=embedder,
                    taxonomy_vectors=vectors if embedder is not None else None,
                    min_confidence=self.min_confidence,
                    max_span_tokens=self.max_span_tokens,
                )
            return _CACHE[key]

    def llm_config(self) -> Any:
        from skillatlas.extract.llm import DEFAULT_PROMPT_TEMPLATE, LLMConfig

        return LLMConfig(
            model=self.openai_model,
            prompt_template=self.prompt_template or DEFAULT_PROMPT_TEMPLATE,
            min_confidence=self.min_confidence,
            requests_per_minute=float(self.requests_per_minute),
            tokens_per_minute=float(self.tokens_per_minute),
            review_zone=self.review_zone(),
        )

    def review_zone(self) -> tuple[float, float] | None:
        if self.review_zone_low is None or self.review_zone_high is None:
            return None
        if not self.review_zone_low < self.review_zone_high:
            raise dg.Failure(
                f"review zone [{self.review_zone_low}, {self.review_zone_high}) is empty", allow_retries=False
            )
        return (self.review_zone_low, self.review_zone_high)

    def candidates(self, taxonomy: pd.DataFrame, vectors: np.ndarray | None) -> Any:
        """The offline candidate retriever that also feeds the synchronous LLM path."""
        from skillatlas.extract import llm

        return llm.OfflineCandidates(self.offline(taxonomy, vectors), taxonomy)

    def openai_client(self) -> Any:
        """An `openai.OpenAI` client for the Batch API; the SDK's own retries (backoff, Retry-After) apply."""
        if not self.openai_api_key:
            raise dg.Failure("the Batch API needs OPENAI_API_KEY in the environment", allow_retries=False)
        from openai import OpenAI

        return OpenAI(api_key=self.openai_api_key, base_url=self.openai_base_url, max_retries=self.sdk_max_retries,
                      timeout=120.0)

    def build(self, taxonomy: pd.DataFrame, vectors: np.ndarray | None) -> Any:
        """The configured extractor. OpenAI modes put the offline retriever's candidates into the prompt."""
        offline = self.offline(taxonomy, vectors)
        if self.mode == "offline":
            return offline
        if self.mode not in ("openai", "cascade"):
            raise dg.Failure(
                f"extractor mode {self.mode!r} is not one of offline, openai, cascade", allow_retries=False
            )
        if not self.openai_api_key:
            raise dg.Failure(
                f"extractor mode {self.mode!r} needs OPENAI_API_KEY in the environment", allow_retries=False
            )
        from skillatlas.extract import llm

        cache = llm.LLMCache(Path(self.cache_dir or ".") / "llm_cache.sqlite")
        openai_extractor = llm.OpenAIExtractor(
            llm.OfflineCandidates(offline, taxonomy),
            self.llm_config(),
            api_key=self.openai_api_key,
            base_url=self.openai_base_url,
            cache=cache,
        )
        if self.mode == "openai":
            return openai_extractor
        return llm.CascadeExtractor(offline, openai_extractor, threshold=self.cascade_threshold)
