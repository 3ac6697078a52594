"""The one place that builds the skill extractor, for the pipeline, the operator jobs and the CLI alike.

``build_extractor(settings, taxonomy, ...)`` reads every knob from :class:`skillatlas.settings.Settings`
(``SKILLATLAS_EXTRACTOR``, ``SKILLATLAS_MIN_CONFIDENCE``, ``SKILLATLAS_CASCADE_THRESHOLD``, ``SKILLATLAS_LLM_*``),
so a threshold means the same in a Dagster step as in ``skillatlas eval-extraction``. The LLM cache is the one
of ``Settings.llm_cache_path``. The returned engine's ``version`` covers the offline matcher (taxonomy ids,
model), and for LLM modes the model, the prompt template's hash and the taxonomy labels: changing any of them
makes stored results of the old version stale.
"""

from __future__ import annotations

import hashlib
import threading
from typing import TYPE_CHECKING

from skillatlas.extract.base import Extractor, OfflineEngine

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from skillatlas.extract.llm.config import LLMConfig
    from skillatlas.extract.offline import OfflineExtractor
    from skillatlas.settings import Settings

__all__ = ["MissingAPIKeyError", "build_extractor", "build_offline", "llm_config", "taxonomy_fingerprint"]

_OFFLINE: dict[tuple[object, ...], OfflineExtractor] = {}
_LOCK = threading.Lock()


class MissingAPIKeyError(RuntimeError):
    """OPENAI_API_KEY is required (extractor openai or cascade) but not set."""


def taxonomy_fingerprint(taxonomy: pd.DataFrame) -> str:
    """Hash of the taxonomy's (skill_id, label) pairs."""
    digest = hashlib.sha256()
    for skill_id, label in zip(taxonomy["skill_id"], taxonomy["label"], strict=True):
        digest.update(f"{skill_id}\t{label}\n".encode())
    return digest.hexdigest()[:16]


def build_offline(settings: Settings, taxonomy: pd.DataFrame, vectors: np.ndarray | None = None, *,
                  compute_vectors: bool = False) -> OfflineExtractor:
    """The offline extractor (built once per process and configuration).

    Semantic matching (``settings.semantic``) needs taxonomy vectors: ``vectors`` as given (the pipeline's
    artefact; None = phrase matching only), or with ``compute_vectors`` loaded/computed through the offline
    vector cache (the CLI).
    """
    from skillatlas.extract import embeddings, offline

    semantic = settings.semantic and (vectors is not None or compute_vectors)
    key = (taxonomy_fingerprint(taxonomy), semantic, compute_vectors and vectors is None,
           settings.min_confidence, settings.max_span_tokens)
    with _LOCK:
        if key not in _OFFLINE:
            embedder = embeddings.MiniLMEmbedder() if semantic else None
            if embedder is not None and vectors is None:
                vectors = offline.load_taxonomy_vectors(taxonomy, embedder)
            _OFFLINE[key] = offline.OfflineExtractor(
                taxonomy,
                embedder=embedder,
                taxonomy_vectors=vectors if embedder is not None else None,
                min_confidence=settings.min_confidence,
                max_span_tokens=settings.max_span_tokens,
            )
        return _OFFLINE[key]


def llm_config(settings: Settings, prompt_template: str | None = None) -> LLMConfig:
    """The LLM extractor's configuration from the settings (and an organisation's prompt template)."""
    from skillatlas.extract.llm.config import DEFAULT_PROMPT_TEMPLATE, LLMConfig

    return LLMConfig(
        model=settings.llm_model,
        prompt_template=prompt_template or DEFAULT_PROMPT_TEMPLATE,
        min_confidence=settings.effective_llm_min_confidence,
        review_zone=settings.llm_review_zone,
        **settings.llm_limits,
    )


def build_extractor(
    settings: Settings,
    taxonomy: pd.DataFrame | None = None,
    *,
    vectors: np.ndarray | None = None,
    compute_vectors: bool = False,
    api_key: str | None = None,
    base_url: str | None = None,
    prompt_template: str | None = None,
    offline: OfflineEngine | None = None,
) -> Extractor:
    """The extractor ``settings.extractor`` names: offline, openai (candidates from the offline retriever) or
    cascade (offline first, the LLM for unsure documents).

    ``taxonomy`` defaults to the shipped reference taxonomy; ``offline`` (an offline engine with ``rank``) replaces
    the one built from the settings. For the LLM modes ``api_key`` is required and checked before anything
    expensive is loaded. Each call builds a new LLM extractor (its stats and outcome journal are per build).
    """
    mode = settings.extractor
    if mode != "offline" and not api_key:
        raise MissingAPIKeyError(
            f"OPENAI_API_KEY is not set: the {mode!r} extractor calls the OpenAI API. Export OPENAI_API_KEY "
            "(and optionally OPENAI_BASE_URL for an OpenAI-compatible server, SKILLATLAS_LLM_MODEL for the "
            "model), or use the 'offline' extractor."
        )
    if taxonomy is None:
        from skillatlas.reference.taxonomy import load_taxonomy

        taxonomy = load_taxonomy()
    engine: OfflineEngine = offline if offline is not None else build_offline(
        settings, taxonomy, vectors, compute_vectors=compute_vectors
    )
    if mode == "offline":
        return engine
    from skillatlas.extract.llm.cache import LLMCache
    from skillatlas.extract.llm.cascade import CascadeExtractor, OfflineCandidates
    from skillatlas.extract.llm.openai_extractor import OpenAIExtractor

    config = llm_config(settings, prompt_template)
    cache_path = settings.llm_cache_path
    llm = OpenAIExtractor(
        OfflineCandidates(engine, taxonomy, max_candidates=config.max_candidates),
        config,
        api_key=api_key,
        base_url=base_url,
        cache=LLMCache(cache_path) if cache_path is not None else None,
    )
    if mode == "openai":
        return llm
    return CascadeExtractor(engine, llm, threshold=settings.cascade_threshold)
