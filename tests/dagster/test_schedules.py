"""Schedules on their own: what each one would launch at a given time."""

import datetime

import dagster as dg

from schedules import hourly_trends_schedule, nightly_scores_schedule, weekly_cleanup_schedule


def test_hourly_trends_recounts_yesterday_and_today_in_one_run() -> None:
    when = datetime.datetime(2026, 11, 22, 14, 5, tzinfo=datetime.UTC)
    context = dg.build_schedule_context(scheduled_execution_time=when)
    (request,) = hourly_trends_schedule.evaluate_tick(context).run_requests
    assert request.tags["dagster/asset_partition_range_start"] == "2026-11-21"
    assert request.tags["dagster/asset_partition_range_end"] == "2026-11-22"
    assert request.run_key.endswith("2026112214")


def test_hourly_trends_across_a_month_boundary() -> None:
    when = datetime.datetime(2026, 12, 1, 0, 5, tzinfo=datetime.UTC)
    (request,) = hourly_trends_schedule.evaluate_tick(
        dg.build_schedule_context(scheduled_execution_time=when)
    ).run_requests
    assert request.tags["dagster/asset_partition_range_start"] == "2026-11-30"


def test_nightly_and_weekly_crons() -> None:
    assert nightly_scores_schedule.cron_schedule == "0 2 * * *"
    assert nightly_scores_schedule.job_name == "rebuild_scores_job"
    assert weekly_cleanup_schedule.cron_schedule == "0 4 * * 0"
    (request,) = nightly_scores_schedule.evaluate_tick(
        dg.build_schedule_context(scheduled_execution_time=datetime.datetime(2026, 11, 22, 2, tzinfo=datetime.UTC))
    ).run_requests
    assert request.partition_key is None  # one whole-graph rebuild, not per partition
