"""Resources per environment: one place decides embedded (SQLite) vs production (PostgreSQL)."""

from __future__ import annotations

import os

import dagster as dg

from resources.artifacts import ArtifactStore
from resources.extractor import ExtractorResource
from resources.inbox import InboxResource
from resources.notifier import NotifierResource
from resources.settings import Settings, llm_mode, load_settings, review_zone
from resources.warehouse import WarehouseIOManager, WarehouseResource


def build_resources(settings: Settings | None = None) -> dict[str, object]:
    settings = settings or load_settings()
    warehouse_url: str | dg.EnvVar
    if settings.warehouse_url_env:
        warehouse_url = dg.EnvVar(settings.warehouse_url_env)
    else:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        warehouse_url = settings.embedded_warehouse_url
    notifier_kind = os.environ.get("SKILLATLAS_NOTIFIER", "log")
    zone = review_zone()
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
            openai_api_key=dg.EnvVar("OPENAI_API_KEY") if settings.extractor != "offline" else None,
            openai_base_url=os.environ.get("OPENAI_BASE_URL") or None,
            cache_dir=str(settings.data_dir / "artifacts"),
            llm_mode=llm_mode(),
            review_zone_low=zone[0] if zone else None,
            review_zone_high=zone[1] if zone else None,
        ),
        "notifier": NotifierResource(
            kind=notifier_kind,
            webhook_url=dg.EnvVar("SKILLATLAS_WEBHOOK_URL") if notifier_kind == "webhook" else None,
            slack_token=dg.EnvVar("SLACK_TOKEN") if notifier_kind == "slack" else None,
            webserver_url=os.environ.get("SKILLATLAS_WEBSERVER_URL") or "http://127.0.0.1:3000",
        ),
    }
