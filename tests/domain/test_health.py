"""Pipeline health figures (skillatlas.health) and their text/JSON rendering (skillatlas.cli.health)."""

import io
import math
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from skillatlas.cli.health import render, report_json
from skillatlas.health import JOB_COLUMNS, item_retries, job_health, overall, overall_percentiles, queue_health

NOW = 1_000_000.0
H = 3600.0


def runs_frame(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(
        rows,
        columns=["run_id", "job_name", "queue", "status", "create_time", "start_time", "end_time", "retry_number",
                 "step_retries"],
    ).astype({"start_time": float, "end_time": float})


RUNS = runs_frame(
    [
        # ended in the last hour: waits 2, 4, 6, 8 s; run times 10, 20, 30, 40 s
        ("r1", "ingest_batch_job", "ingest", "SUCCESS", NOW - 500, NOW - 498, NOW - 488, 0, 0),
        ("r2", "ingest_batch_job", "ingest", "SUCCESS", NOW - 400, NOW - 396, NOW - 376, 0, 2),
        ("r3", "ingest_batch_job", "ingest", "FAILURE", NOW - 300, NOW - 294, NOW - 264, 0, 3),
        ("r4", "ingest_batch_job", "ingest", "SUCCESS", NOW - 260, NOW - 252, NOW - 212, 1, 0),  # retry of r3
        ("l1", "ingest_batch_job", "ingest", "FAILURE", NOW - 200, np.nan, NOW - 199, 0, 0),  # launch failure
        ("c1", "ingest_batch_job", "ingest", "CANCELED", NOW - 150, NOW - 149, NOW - 140, 0, 0),
        # in flight
        ("r5", "ingest_batch_job", "ingest", "STARTED", NOW - 100, NOW - 100, np.nan, 0, 0),
        ("r6", "ingest_batch_job", "ingest", "QUEUED", NOW - 5, np.nan, np.nan, 0, 0),
        ("r7", "ingest_batch_job", "ingest", "QUEUED", NOW - 900, np.nan, np.nan, 0, 0),
        # ended 3 h ago: in 24h and 7d only
        ("s1", "rebuild_scores_job", "scoring", "FAILURE", NOW - 3 * H, NOW - 3 * H, NOW - 3 * H + 50, 0, 0),
        # ended 3 days ago: 7d only
        ("s2", "rebuild_scores_job", "scoring", "SUCCESS", NOW - 72 * H, NOW - 72 * H, NOW - 72 * H + 70, 0, 0),
        ("h1", "health_job", "health", "STARTED", NOW - 2 * H, NOW - 2 * H, np.nan, 0, 0),
    ]
)


def by_job(window: str) -> pd.DataFrame:
    health = job_health(RUNS, now=NOW)
    assert list(health.columns) == JOB_COLUMNS
    return health[health["window"] == window].set_index("job_name")


def test_failure_rate_excludes_cancels_and_launch_failures() -> None:
    ingest = by_job("1h").loc["ingest_batch_job"]
    assert ingest["runs"] == 6 and ingest["succeeded"] == 3 and ingest["failed"] == 1
    assert ingest["canceled"] == 1 and ingest["launch_failures"] == 1
    assert ingest["failure_rate"] == 0.25  # 1 failed of 4 runs that started and ended (not 3/6)
    assert ingest["run_retries"] == 1 and ingest["step_retries"] == 5


def test_percentiles_of_queue_wait_and_run_time() -> None:
    ingest = by_job("1h").loc["ingest_batch_job"]
    # waits 2, 4, 6, 8 (+1 for the cancelled run); the launch failure has no start, so no wait and no run time
    assert ingest["p50_queue_wait_s"] == pytest.approx(np.percentile([2, 4, 6, 8, 1], 50))
    assert ingest["p95_run_time_s"] == pytest.approx(np.percentile([10, 20, 30, 40, 9], 95))
    assert ingest["queued"] == 2 and ingest["running"] == 1
    assert ingest["oldest_queued_age_s"] == 900 and ingest["oldest_running_age_s"] == 100


def test_windows_hold_runs_that_ended_in_them() -> None:
    assert "rebuild_scores_job" not in by_job("1h").index
    assert by_job("24h").loc["rebuild_scores_job", "failed"] == 1
    scores_7d = by_job("7d").loc["rebuild_scores_job"]
    assert scores_7d["runs"] == 2 and scores_7d["failure_rate"] == 0.5
    # a job with only an in-flight run shows in every window (its current state), with no percentiles
    health_1h = by_job("1h").loc["health_job"]
    assert health_1h["runs"] == 0 and health_1h["running"] == 1 and math.isnan(health_1h["p50_run_time_s"])


def test_queue_depth_and_oldest_queued_run_per_queue() -> None:
    queues = queue_health(RUNS, now=NOW).set_index("queue")
    assert queues.loc["ingest", "queued"] == 2 and queues.loc["ingest", "running"] == 1
    assert queues.loc["ingest", "oldest_queued_age_s"] == 900 and queues.loc["ingest", "oldest_queued_run_id"] == "r7"
    assert queues.loc["health", "queued"] == 0 and "scoring" not in queues.index  # nothing in flight there


def test_overall_totals_and_item_retries() -> None:
    totals = overall(job_health(RUNS, now=NOW), "24h")
    assert totals["runs"] == 7 and totals["failed"] == 2 and totals["failure_rate"] == round(2 / 5, 4)
    assert totals["canceled"] == 1 and totals["launch_failures"] == 1 and totals["queued"] == 2
    assert overall(job_health(RUNS.iloc[0:0], now=NOW), "24h")["runs"] == 0
    p = overall_percentiles(RUNS, NOW, "7d")
    assert p["p95_run_time_s"] == pytest.approx(np.percentile([10, 20, 30, 40, 9, 50, 70], 95))
    iso = lambda t: datetime.fromtimestamp(t, tz=UTC).isoformat()  # noqa: E731
    history = pd.DataFrame(
        {"attempts": [1, 2, 3, 2], "failed_at": [iso(NOW - 10), iso(NOW - 20), iso(NOW - 2 * H), iso(NOW - 9 * 86400)]}
    )
    assert item_retries(history, NOW) == {"1h": 1, "24h": 2, "7d": 2}


def test_render_prints_as_of_window_and_queues() -> None:
    report = {
        "as_of": NOW,
        "as_of_iso": datetime.fromtimestamp(NOW, tz=UTC).isoformat(timespec="seconds"),
        "windows": {"1h": {**overall(job_health(RUNS, now=NOW), "1h"), "item_retries": 0}},
        "jobs": job_health(RUNS, now=NOW),
        "queues": queue_health(RUNS, now=NOW),
    }
    ledger = pd.DataFrame({"asset": ["document_text"], "error_kind": ["invalid_format"]})
    data = report_json(report, ledger, "1h")
    out = io.StringIO()
    render(data, out)
    text = out.getvalue()
    assert text.startswith("pipeline health as of 1970-01-12 13:46:40 UTC")
    ingest = next(line for line in text.splitlines() if line.startswith("ingest_batch_job")).split()
    assert ingest[1:5] == ["6", "3", "1", "25.0%"]
    assert any(line.split() == ["ingest", "2", "1", "15m", "r7"] for line in text.splitlines())
    assert "items failed (open): 1" in text
    assert data["jobs"][0]["job_name"] == "health_job" and data["jobs"][0]["p50_run_time_s"] is None
