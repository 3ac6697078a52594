"""Schedules: nightly scores and index (02:00), hourly trends, weekly cleanup, monthly reference refresh."""

import dagster as dg

from jobs import rebuild_scores_job, reference_job

TIMEZONE = "UTC"

nightly_scores_schedule = dg.ScheduleDefinition(
    name="nightly_scores_schedule",
    job=rebuild_scores_job,
    cron_schedule="0 2 * * *",
    execution_timezone=TIMEZONE,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Rebuild scores and the search index every night at 02:00.",
)

monthly_reference_schedule = dg.ScheduleDefinition(
    name="monthly_reference_schedule",
    job=reference_job,
    cron_schedule="0 3 1 * *",
    execution_timezone=TIMEZONE,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Refresh the taxonomy and occupations on the first day of each month at 03:00.",
)

ALL_SCHEDULES = [nightly_scores_schedule, monthly_reference_schedule]
