"""The skillatlas Dagster code location: assets, checks, jobs, schedules, sensors and resources."""

import warnings

import dagster as dg

# `backfill_policy=` is beta in Dagster 1.13 and warns at every code load; we use it deliberately.
warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.PreviewWarning)

from assets import ALL_ASSETS  # noqa: E402
from assets.checks import ALL_CHECKS  # noqa: E402
from jobs import ALL_JOBS  # noqa: E402
from resources import build_resources  # noqa: E402
from resources.executor import build_executor  # noqa: E402
from schedules import ALL_SCHEDULES  # noqa: E402
from sensors import ALL_SENSORS  # noqa: E402
from skillatlas.store.tables import DOCUMENT_SKILLS, DOCUMENT_TEXT  # noqa: E402

DOCUMENT_ASSETS = dg.AssetSelection.assets(DOCUMENT_TEXT, DOCUMENT_SKILLS)

# Declarative automation, split so that every run it starts is governed like the other runs of its kind:
# runs materialising document assets carry the ingest queue tag (queue limits, stuck-run sensor, health).
document_automation_sensor = dg.AutomationConditionSensorDefinition(
    "document_automation_sensor",
    target=DOCUMENT_ASSETS,
    run_tags={"skillatlas/queue": "ingest", "skillatlas/trigger": "automation"},
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Declarative automation of the document assets (e.g. re-extraction when the taxonomy changes); "
    "its runs join the ingest queue.",
)
automation_sensor = dg.AutomationConditionSensorDefinition(
    "default_automation_sensor",
    target=dg.AssetSelection.all() - DOCUMENT_ASSETS,
    run_tags={"skillatlas/trigger": "automation"},
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Declarative automation of every other asset (trend roll-ups after daily demand, and the like).",
)

def build_definitions(resources: dict[str, object] | None = None) -> dg.Definitions:
    """The code location; tests pass resources bound to temporary folders."""
    return dg.Definitions(
        assets=ALL_ASSETS,
        asset_checks=ALL_CHECKS,
        jobs=ALL_JOBS,
        schedules=ALL_SCHEDULES,
        sensors=[*ALL_SENSORS, document_automation_sensor, automation_sensor],
        resources=resources if resources is not None else build_resources(),
        # SKILLATLAS_EXECUTOR=celery: steps run on Celery workers; unset: Dagster's default, no broker needed
        executor=build_executor(),
    )


defs = build_definitions()
