"""Schedules: nightly scores and index (02:00), hourly trends, weekly cleanup, monthly reference refresh."""

import datetime

import dagster as dg

from assets.partitions import partition_range_tags
from jobs import cleanup_job, health_job, rebuild_scores_job, reference_job, trends_daily_job

TIMEZONE = "UTC"

nightly_scores_schedule = dg.ScheduleDefinition(
    name="nightly_scores_schedule",
    job=rebuild_scores_job,
    cron_schedule="0 2 * * *",
    execution_timezone=TIMEZONE,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Rebuild scores and the search index every night at 02:00.",
)


@dg.schedule(
    name="hourly_trends_schedule",
    job=trends_daily_job,
    cron_schedule="5 * * * *",
    execution_timezone=TIMEZONE,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every hour, recount today's and yesterday's skill demand (late postings land in yesterday).",
)
def hourly_trends_schedule(context: dg.ScheduleEvaluationContext) -> list[dg.RunRequest]:
    now = context.scheduled_execution_time
    today = now.date()
    days = [(today - datetime.timedelta(days=1)).isoformat(), today.isoformat()]
    return [
        dg.RunRequest(
            run_key=f"trends:{days[0]}..{days[1]}:{now:%Y%m%d%H}",
            tags=partition_range_tags(days[0], days[1]),
        )
    ]


weekly_cleanup_schedule = dg.ScheduleDefinition(
    name="weekly_cleanup_schedule",
    job=cleanup_job,
    cron_schedule="0 4 * * 0",
    execution_timezone=TIMEZONE,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Sundays 04:00: remove orphaned batches and stale rows.",
)

monthly_reference_schedule = dg.ScheduleDefinition(
    name="monthly_reference_schedule",
    job=reference_job,
    cron_schedule="0 3 1 * *",
    execution_timezone=TIMEZONE,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Refresh the taxonomy and occupations on the first day of each month at 03:00.",
)

health_schedule = dg.ScheduleDefinition(
    name="health_schedule",
    job=health_job,
    cron_schedule="*/5 * * * *",
    execution_timezone=TIMEZONE,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every 5 minutes: pipeline health from run storage (its metadata plots it; `as_of` dates it). "
    "`skillatlas health` computes the same live at any moment.",
)

ALL_SCHEDULES = [
    nightly_scores_schedule,
    hourly_trends_schedule,
    weekly_cleanup_schedule,
    monthly_reference_schedule,
    health_schedule,
]
