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
from schedules import ALL_SCHEDULES  # noqa: E402
from sensors import ALL_SENSORS  # noqa: E402

automation_sensor = dg.AutomationConditionSensorDefinition(
    "default_automation_sensor",
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Declarative automation: materialises document_skills after new document text, and the trend "
    "roll-ups after new daily demand (assets with AutomationCondition.eager()).",
)



def build_definitions(resources: dict[str, object] | None = None) -> dg.Definitions:
    """The code location; tests pass resources bound to temporary folders."""
    return dg.Definitions(
        assets=ALL_ASSETS,
        asset_checks=ALL_CHECKS,
        jobs=ALL_JOBS,
        schedules=ALL_SCHEDULES,
        sensors=[*ALL_SENSORS, automation_sensor],
        resources=resources if resources is not None else build_resources(),
    )


defs = build_definitions()
