"""Schedules: nightly scores and index (02:00), hourly trends, weekly cleanup, monthly reference refresh."""

import datetime
from typing import Any

import dagster as dg

from assets.partitions import partition_range_tags
from jobs import cleanup_job, health_job, rebuild_scores_job, reference_job, trends_daily_job

TIMEZONE = "UTC"


def schedule_args(name: str, job: Any, cron: str, description: str) -> dict[str, Any]:
    """What every schedule here shares: UTC, running by default."""
    return {
        "name": name, "job": job, "cron_schedule": cron, "description": description,
        "execution_timezone": TIMEZONE, "default_status": dg.DefaultScheduleStatus.RUNNING,
    }


nightly_scores_schedule = dg.ScheduleDefinition(**schedule_args(
    "nightly_scores_schedule", rebuild_scores_job, "0 2 * * *",
    "Rebuild scores and the search index every night at 02:00.",
))


@dg.schedule(**schedule_args(
    "hourly_trends_schedule", trends_daily_job, "5 * * * *",
    "Every hour, recount today's and yesterday's skill demand (late postings land in yesterday).",
))
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


weekly_cleanup_schedule = dg.ScheduleDefinition(**schedule_args(
    "weekly_cleanup_schedule", cleanup_job, "0 4 * * 0", "Sundays 04:00: remove orphaned batches and stale rows.",
))
monthly_reference_schedule = dg.ScheduleDefinition(**schedule_args(
    "monthly_reference_schedule", reference_job, "0 3 1 * *",
    "Refresh the taxonomy and occupations on the first day of each month at 03:00.",
))
health_schedule = dg.ScheduleDefinition(**schedule_args(
    "health_schedule", health_job, "*/5 * * * *",
    "Every 5 minutes: pipeline health from run storage (its metadata plots it; `as_of` dates it). "
    "`skillatlas health` computes the same live at any moment.",
))

ALL_SCHEDULES = [
    nightly_scores_schedule,
    hourly_trends_schedule,
    weekly_cleanup_schedule,
    monthly_reference_schedule,
    health_schedule,
]
