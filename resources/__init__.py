"""Resources per environment: one place decides embedded (SQLite) vs production (PostgreSQL)."""

from __future__ import annotations

import os

import dagster as dg

from resources.artifacts import ArtifactStore
from resources.extractor import ExtractorResource
from resources.inbox import InboxResource
from resources.notifier import NotifierResource
from resources.settings import Settings, load_settings
from resources.warehouse import WarehouseIOManager, WarehouseResource
from skillatlas import settings as skillatlas_settings


def build_resources(settings: Settings | None = None) -> dict[str, object]:
    settings = settings or load_settings()
    knobs = skillatlas_settings.load_settings()  # every SKILLATLAS_* value, typed and validated
    warehouse_url: str | dg.EnvVar
    if settings.warehouse_url_env:
        warehouse_url = dg.EnvVar(settings.warehouse_url_env)
    else:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        warehouse_url = settings.embedded_warehouse_url
    zone = knobs.llm_review_zone
    return {
        "io_manager": WarehouseIOManager(url=warehouse_url),
        "warehouse": WarehouseResource(url=warehouse_url),
        "inbox": InboxResource(
            path=str(settings.inbox_dir),
            max_file_bytes=settings.max_file_bytes,
            batch_size=settings.batch_size,
            quiet_seconds=settings.quiet_seconds,
        ),
        "artifacts": ArtifactStore(root=str(settings.data_dir / "artifacts")),
        "extractor": ExtractorResource(
            mode=settings.extractor,
            semantic=settings.semantic,
            min_confidence=knobs.min_confidence,
            llm_min_confidence=knobs.llm_min_confidence,
            max_span_tokens=knobs.max_span_tokens,
            cascade_threshold=knobs.cascade_threshold,
            openai_api_key=dg.EnvVar("OPENAI_API_KEY") if settings.extractor != "offline" else None,
            openai_base_url=os.environ.get("OPENAI_BASE_URL") or None,
            openai_model=knobs.llm_model,
            **knobs.llm_limits,
            # the one LLM cache (SKILLATLAS_LLM_CACHE, else the data dir's artefacts), shared with the CLI
            cache_dir=knobs.llm_cache or str(settings.data_dir / "artifacts" / "llm_cache.sqlite"),
            llm_mode=knobs.llm_mode,
            review_zone_low=zone[0] if zone else None,
            review_zone_high=zone[1] if zone else None,
        ),
        "notifier": NotifierResource(
            kind=knobs.notifier,
            webhook_url=dg.EnvVar("SKILLATLAS_WEBHOOK_URL") if knobs.notifier == "webhook" else None,
            slack_token=dg.EnvVar("SLACK_TOKEN") if knobs.notifier == "slack" else None,
            webserver_url=knobs.webserver_url,
        ),
    }
