"""The deployment view of the settings the resources need: a thin adapter over `skillatlas.settings`.

Every knob (name, type, default, bounds, meaning) is declared once, in `skillatlas.settings.Settings`; this module
only resolves the paths and decides which values reach resources through `EnvVar` (secrets: the warehouse URL in
production, the OpenAI key, the webhook URL) so that they never land in run config or the UI.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from skillatlas import settings as skillatlas_settings
from skillatlas.ingest.inbox import DEFAULT_QUIET_SECONDS


@dataclass(frozen=True)
class Settings:
    environment: str
    data_dir: Path
    inbox_dir: Path
    warehouse_url_env: str | None  # name of the env var holding the URL (production), or None
    embedded_warehouse_url: str
    max_file_bytes: int
    batch_size: int
    extractor: str
    semantic: bool = True  # MiniLM semantic matching besides phrase matching (SKILLATLAS_SEMANTIC=0: phrase only)
    quiet_seconds: float = DEFAULT_QUIET_SECONDS  # inbox files must be unchanged this long before registration


# fields taken as they are, under the same name, from `skillatlas.settings.Settings`
_AS_IS = ("embedded_warehouse_url", "max_file_bytes", "batch_size", "extractor", "semantic")


def load_settings() -> Settings:
    s = skillatlas_settings.load_settings()
    return Settings(
        environment=s.env,
        data_dir=s.resolved_data_dir,
        inbox_dir=s.resolved_inbox,
        warehouse_url_env=skillatlas_settings.env_name("warehouse_url") if s.warehouse_url else None,
        quiet_seconds=s.inbox_quiet_seconds,
        **{name: getattr(s, name) for name in _AS_IS},
    )

