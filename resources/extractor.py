"""The skill extractor a deployment uses, as a Dagster resource: a thin layer over the domain factory.

Every field's default and meaning comes from `skillatlas.settings.Settings` (the one place to change them);
`resources.build_resources` fills the fields from the environment. `build` hands them to
`skillatlas.extract.factory.build_extractor`, the same factory the CLI uses.
"""

from __future__ import annotations

from typing import Any

import dagster as dg
import numpy as np
import pandas as pd
from pydantic import Field

from skillatlas.extract.base import Extractor
from skillatlas.extract.factory import build_extractor as build_domain_extractor
from skillatlas.extract.factory import build_offline, llm_config
from skillatlas.extract.factory import taxonomy_fingerprint as taxonomy_fingerprint
from skillatlas.extract.llm.cascade import OfflineCandidates
from skillatlas.extract.llm.config import LLMConfig
from skillatlas.extract.offline import OfflineExtractor
from skillatlas.settings import Settings, SettingsError, load_settings
from skillatlas.store.tables import SKILL_TAXONOMY

_FIELDS = Settings.model_fields


def _default(name: str) -> Any:
    return _FIELDS[name].default


def _describe(name: str) -> str:
    return f"{_FIELDS[name].description} (SKILLATLAS_{name.upper()})"


class ExtractorResource(dg.ConfigurableResource):
    """Builds the extractor over the current taxonomy (the offline part once per process).

    `openai_api_key` is meant to be set with `EnvVar("OPENAI_API_KEY")`: Dagster resolves it at run time and
    never shows its value in run config or the UI.
    """

    mode: str = Field(default=_default("extractor"), description=_describe("extractor"))
    min_confidence: float = Field(default=_default("min_confidence"), ge=0.0, le=1.0,
                                  description=_describe("min_confidence"))
    llm_min_confidence: float | None = Field(default=None, ge=0.0, le=1.0,
                                             description=_describe("llm_min_confidence"))
    semantic: bool = Field(default=_default("semantic"), description=_describe("semantic"))
    max_span_tokens: int = Field(default=_default("max_span_tokens"), ge=1, le=4,
                                 description=_describe("max_span_tokens"))
    cascade_threshold: float = Field(default=_default("cascade_threshold"), ge=0.0, le=1.0,
                                     description=_describe("cascade_threshold"))
    openai_api_key: str | None = Field(default=None, description="Set through EnvVar('OPENAI_API_KEY')")
    openai_base_url: str | None = None
    openai_model: str = Field(default=_default("llm_model"), description=_describe("llm_model"))
    requests_per_minute: float | None = Field(default=_default("llm_rpm"), gt=0, description=_describe("llm_rpm"))
    tokens_per_minute: float | None = Field(default=_default("llm_tpm"), gt=0, description=_describe("llm_tpm"))
    timeout_s: float = Field(default=_default("llm_timeout_s"), gt=0, description=_describe("llm_timeout_s"))
    max_retries: int = Field(default=_default("llm_max_retries"), ge=0, le=10,
                             description=_describe("llm_max_retries"))
    cache_dir: str | None = Field(default=None, description=_describe("llm_cache"))
    prompt_template: str | None = Field(
        default=None, description="Per-organisation prompt; must contain {candidates}. Default: the built-in one"
    )
    review_zone_low: float | None = Field(
        default=None, ge=0.0, le=1.0,
        description="Grey zone start: LLM skills with confidence in [low, high) go to skills_review_queue instead "
        "of document_skills (SKILLATLAS_LLM_REVIEW_ZONE=low,high). None: no grey zone",
    )
    review_zone_high: float | None = Field(default=None, ge=0.0, le=1.0, description="Grey zone end (exclusive)")
    llm_mode: str = Field(default=_default("llm_mode"), description=_describe("llm_mode"))
    sdk_max_retries: int = Field(
        default=4, ge=0, le=10, description="Retries of the openai SDK for Batch API calls (files, batches)"
    )

    def settings(self) -> Settings:
        """This resource's values as the domain settings (the environment fills anything not set here)."""
        zone = None
        if self.review_zone_low is not None and self.review_zone_high is not None:
            zone = (self.review_zone_low, self.review_zone_high)
        try:
            return load_settings(
                extractor=self.mode, semantic=self.semantic, min_confidence=self.min_confidence,
                llm_min_confidence=self.llm_min_confidence, max_span_tokens=self.max_span_tokens,
                cascade_threshold=self.cascade_threshold, llm_model=self.openai_model,
                llm_rpm=self.requests_per_minute, llm_tpm=self.tokens_per_minute, llm_timeout_s=self.timeout_s,
                llm_max_retries=self.max_retries, llm_cache=self.cache_dir, llm_review_zone=zone,
            )
        except SettingsError as exc:
            raise dg.Failure(f"extractor settings: {exc}", allow_retries=False) from None

    def offline(self, taxonomy: pd.DataFrame, vectors: np.ndarray | None) -> OfflineExtractor:
        return build_offline(self.settings(), taxonomy, vectors)

    def llm_config(self) -> LLMConfig:
        return llm_config(self.settings(), self.prompt_template)

    def candidates(self, taxonomy: pd.DataFrame, vectors: np.ndarray | None) -> OfflineCandidates:
        """The offline candidate retriever that also feeds the synchronous LLM path."""
        return OfflineCandidates(self.offline(taxonomy, vectors), taxonomy,
                                 max_candidates=self.llm_config().max_candidates)

    def openai_client(self) -> Any:
        """An `openai.OpenAI` client for the Batch API; the SDK's own retries (backoff, Retry-After) apply."""
        if not self.openai_api_key:
            raise dg.Failure("the Batch API needs OPENAI_API_KEY in the environment", allow_retries=False)
        from openai import OpenAI

        return OpenAI(api_key=self.openai_api_key, base_url=self.openai_base_url, max_retries=self.sdk_max_retries,
                      timeout=120.0)

    def build(self, taxonomy: pd.DataFrame, vectors: np.ndarray | None) -> Extractor:
        """The configured extractor (`skillatlas.extract.factory.build_extractor`)."""
        settings = self.settings()
        if settings.extractor != "offline" and not self.openai_api_key:
            raise dg.Failure(
                f"extractor mode {settings.extractor!r} needs OPENAI_API_KEY in the environment", allow_retries=False
            )
        return build_domain_extractor(settings, taxonomy, vectors=vectors, api_key=self.openai_api_key,
                                      base_url=self.openai_base_url, prompt_template=self.prompt_template)

    def stored_taxonomy(self, warehouse: Any, artifacts: Any) -> tuple[pd.DataFrame, np.ndarray | None]:
        """The taxonomy stored in the warehouse and its vectors (None when missing or stale)."""
        from assets.reference import decode_taxonomy, load_taxonomy_vectors

        stored = warehouse.read_table(SKILL_TAXONOMY)
        if stored.empty:
            raise dg.Failure(
                description=f"warehouse table '{SKILL_TAXONOMY}' is missing or empty: run reference_job first",
                allow_retries=False,
            )
        taxonomy = decode_taxonomy(stored)
        return taxonomy, load_taxonomy_vectors(artifacts, taxonomy)

    def build_logged(self, taxonomy: pd.DataFrame, vectors: np.ndarray | None, log: Any) -> Extractor:
        """`build`, saying in the run's log when semantic matching is off for want of current vectors."""
        if vectors is None and self.semantic:
            log.warning("taxonomy_vectors missing or stale: extracting with phrase matching only")
        return self.build(taxonomy, vectors)

    def engine_and_version(self, warehouse: Any, artifacts: Any, log: Any) -> tuple[Extractor, str]:
        """The extractor over the taxonomy stored in the warehouse (operator jobs), and its version."""
        engine = self.build_logged(*self.stored_taxonomy(warehouse, artifacts), log)
        return engine, engine.version
