"""Pipeline health from run history: pure pandas over run rows, so it is testable without Dagster.

Input rows: run_id, job_name, status (QUEUED, STARTED, SUCCESS, FAILURE, CANCELED, ...), start_time,
end_time, create_time (epoch seconds; NaN when unknown), retry_number (0 for an original run).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

HEALTH_COLUMNS = [
    "job_name",
    "runs",
    "succeeded",
    "failed",
    "failure_rate",
    "retried_runs",
    "p50_duration_s",
    "p95_duration_s",
    "queued",
    "running",
    "oldest_running_age_s",
]
FINISHED_FAILED = {"FAILURE", "CANCELED"}
RUNNING = {"STARTED", "STARTING", "CANCELING"}


def job_health(runs: pd.DataFrame, now: float) -> pd.DataFrame:
    """One row per job with counts, failure rate, retries, duration percentiles, queue depth, stuck age."""
    if runs.empty:
        return pd.DataFrame(columns=HEALTH_COLUMNS)
    rows = []
    for job_name, group in runs.groupby("job_name", sort=True):
        finished = group[group["status"].isin({"SUCCESS", *FINISHED_FAILED})]
        durations = (finished["end_time"] - finished["start_time"]).dropna()
        running = group[group["status"].isin(RUNNING)]
        failed = int(finished["status"].isin(FINISHED_FAILED).sum())
        rows.append(
            {
                "job_name": job_name,
                "runs": len(group),
                "succeeded": int((finished["status"] == "SUCCESS").sum()),
                "failed": failed,
                "failure_rate": round(failed / len(finished), 4) if len(finished) else 0.0,
                "retried_runs": int((group["retry_number"] > 0).sum()),
                "p50_duration_s": float(np.percentile(durations, 50)) if len(durations) else np.nan,
                "p95_duration_s": float(np.percentile(durations, 95)) if len(durations) else np.nan,
                "queued": int((group["status"] == "QUEUED").sum()),
                "running": len(running),
                "oldest_running_age_s": float(now - running["start_time"].min()) if len(running) else 0.0,
            }
        )
    return pd.DataFrame(rows, columns=HEALTH_COLUMNS)


def overall(health: pd.DataFrame) -> dict[str, float]:
    if health.empty:
        return {
            "runs": 0,
            "failed": 0,
            "failure_rate": 0.0,
            "retried_runs": 0,
            "queued": 0,
            "oldest_running_age_s": 0.0,
        }
    finished = int(health["succeeded"].sum() + health["failed"].sum())
    return {
        "runs": int(health["runs"].sum()),
        "failed": int(health["failed"].sum()),
        "failure_rate": round(float(health["failed"].sum()) / finished, 4) if finished else 0.0,
        "retried_runs": int(health["retried_runs"].sum()),
        "queued": int(health["queued"].sum()),
        "oldest_running_age_s": float(health["oldest_running_age_s"].max()),
    }
