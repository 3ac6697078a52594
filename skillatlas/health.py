"""Pipeline health from run history: pure pandas over run rows, so it is testable without Dagster.

Input rows (one per run): run_id, job_name, queue (the run's ``skillatlas/queue`` tag, "" when none), status
(QUEUED, NOT_STARTED, STARTING, STARTED, SUCCESS, FAILURE, CANCELING, CANCELED), create_time, start_time,
end_time (epoch seconds; NaN when unknown), retry_number (0 for an original run) and step_retries (how many
times a step of the run was up for retry).

Definitions (they decide what an operator reads, so they are spelt out):
- a run belongs to a window when it *ended* in it (created in it, for runs not ended yet);
- a launch failure is a FAILURE that never started (no start time): the run worker or its launch broke,
  not the pipeline's code; it is counted apart and left out of the failure rate;
- CANCELED runs are an operator's decision, not a failure: counted apart, left out of the failure rate;
- failure_rate = failed / (succeeded + failed) over runs that started and ended in the window;
- queue wait = start_time - create_time (how long a run waited for a slot); run time = end_time - start_time;
- queued, running, the oldest queued and oldest running ages are the *current* state (no window).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

RUN_COLUMNS = [
    "run_id", "job_name", "queue", "status", "create_time", "start_time", "end_time", "retry_number",
    "step_retries",
]
WINDOWS: dict[str, float] = {"1h": 3600.0, "24h": 86_400.0, "7d": 7 * 86_400.0}
JOB_COLUMNS = [
    "window", "job_name", "runs", "succeeded", "failed", "canceled", "launch_failures", "failure_rate",
    "run_retries", "step_retries", "p50_queue_wait_s", "p95_queue_wait_s", "p50_run_time_s", "p95_run_time_s",
    "queued", "running", "oldest_queued_age_s", "oldest_running_age_s",
]
QUEUE_COLUMNS = ["queue", "queued", "running", "oldest_queued_age_s", "oldest_queued_run_id"]
WAITING = {"QUEUED", "NOT_STARTED", "STARTING"}
RUNNING = {"STARTED", "CANCELING"}
ENDED = {"SUCCESS", "FAILURE", "CANCELED"}


def empty_runs() -> pd.DataFrame:
    return pd.DataFrame(columns=RUN_COLUMNS).astype(
        {"create_time": float, "start_time": float, "end_time": float, "retry_number": int, "step_retries": int}
    )


def _pct(values: pd.Series, q: float) -> float:
    values = values.dropna()
    return float(np.percentile(values, q)) if len(values) else float("nan")


def _classify(runs: pd.DataFrame) -> pd.DataFrame:
    runs = runs.copy()
    started = runs["start_time"].notna()
    runs["launch_failed"] = (runs["status"] == "FAILURE") & ~started
    runs["counted_failure"] = (runs["status"] == "FAILURE") & started
    runs["queue_wait_s"] = (runs["start_time"] - runs["create_time"]).clip(lower=0)
    runs["run_time_s"] = (runs["end_time"] - runs["start_time"]).where(runs["status"].isin(ENDED))
    # window membership: ended runs by their end (creation when a launch failure has no end), others by creation
    runs["event_time"] = runs["end_time"].where(runs["status"].isin(ENDED)).fillna(runs["create_time"])
    return runs


def _job_row(window: str, job_name: str, ended: pd.DataFrame, current: pd.DataFrame, now: float) -> dict[str, Any]:
    succeeded = int((ended["status"] == "SUCCESS").sum())
    failed = int(ended["counted_failure"].sum())
    waiting = current[current["status"].isin(WAITING)]
    running = current[current["status"].isin(RUNNING)]
    return {
        "window": window,
        "job_name": job_name,
        "runs": len(ended),
        "succeeded": succeeded,
        "failed": failed,
        "canceled": int((ended["status"] == "CANCELED").sum()),
        "launch_failures": int(ended["launch_failed"].sum()),
        "failure_rate": round(failed / (succeeded + failed), 4) if succeeded + failed else 0.0,
        "run_retries": int((ended["retry_number"] > 0).sum()),
        "step_retries": int(ended["step_retries"].sum()),
        "p50_queue_wait_s": _pct(ended["queue_wait_s"], 50),
        "p95_queue_wait_s": _pct(ended["queue_wait_s"], 95),
        "p50_run_time_s": _pct(ended["run_time_s"], 50),
        "p95_run_time_s": _pct(ended["run_time_s"], 95),
        "queued": len(waiting),
        "running": len(running),
        "oldest_queued_age_s": float(now - waiting["create_time"].min()) if len(waiting) else 0.0,
        "oldest_running_age_s": float(now - running["start_time"].min()) if len(running) else 0.0,
    }


def job_health(runs: pd.DataFrame, now: float, windows: Mapping[str, float] = WINDOWS) -> pd.DataFrame:
    """One row per (window, job): ended-run counts and percentiles over the window, current queue state."""
    if runs.empty:
        return pd.DataFrame(columns=JOB_COLUMNS)
    runs = _classify(runs)
    rows = []
    for window, seconds in windows.items():
        in_window = runs[(runs["event_time"] >= now - seconds) & (runs["event_time"] <= now)]
        for job_name in sorted(set(runs["job_name"])):
            job = runs[runs["job_name"] == job_name]
            ended = in_window[(in_window["job_name"] == job_name) & in_window["status"].isin(ENDED)]
            current = job[~job["status"].isin(ENDED)]
            if ended.empty and current.empty:
                continue
            rows.append(_job_row(window, str(job_name), ended, current, now))
    return pd.DataFrame(rows, columns=JOB_COLUMNS)


def queue_health(runs: pd.DataFrame, now: float) -> pd.DataFrame:
    """Current depth per work queue (run tag ``skillatlas/queue``): queued and running runs, and the age and
    id of the oldest queued run (a queue that does not drain shows a growing age)."""
    if runs.empty:
        return pd.DataFrame(columns=QUEUE_COLUMNS)
    rows = []
    for queue, group in runs.groupby(runs["queue"].fillna("").replace("", "(none)"), sort=True):
        waiting = group[group["status"].isin(WAITING)].sort_values("create_time")
        running = group[group["status"].isin(RUNNING)]
        if waiting.empty and running.empty:
            continue
        rows.append(
            {
                "queue": str(queue),
                "queued": len(waiting),
                "running": len(running),
                "oldest_queued_age_s": float(now - waiting["create_time"].iloc[0]) if len(waiting) else 0.0,
                "oldest_queued_run_id": str(waiting["run_id"].iloc[0]) if len(waiting) else "",
            }
        )
    return pd.DataFrame(rows, columns=QUEUE_COLUMNS)


def item_retries(ledger_history: pd.DataFrame, now: float, windows: Mapping[str, float] = WINDOWS) -> dict[str, int]:
    """Per window: item retries that failed again (ledger history rows with attempts > 1). Item retries that
    succeeded leave no ledger row; they show as materialisations of retry_failed_items_job."""
    out = {window: 0 for window in windows}
    if ledger_history.empty or "attempts" not in ledger_history.columns:
        return out
    failed_at = pd.to_datetime(ledger_history["failed_at"], utc=True, errors="coerce").map(
        lambda t: t.timestamp() if pd.notna(t) else np.nan
    )
    retried = ledger_history["attempts"].fillna(1).astype(int) > 1
    for window, seconds in windows.items():
        out[window] = int((retried & (failed_at >= now - seconds)).sum())
    return out


def overall(health: pd.DataFrame, window: str) -> dict[str, float]:
    """Totals over all jobs for one window (the numbers the UI plots)."""
    rows = health[health["window"] == window] if not health.empty else health
    if rows.empty:
        return {
            "runs": 0, "failed": 0, "canceled": 0, "launch_failures": 0, "failure_rate": 0.0, "run_retries": 0,
            "step_retries": 0, "queued": 0, "running": 0, "oldest_queued_age_s": 0.0, "oldest_running_age_s": 0.0,
        }
    succeeded, failed = int(rows["succeeded"].sum()), int(rows["failed"].sum())
    return {
        "runs": int(rows["runs"].sum()),
        "failed": failed,
        "canceled": int(rows["canceled"].sum()),
        "launch_failures": int(rows["launch_failures"].sum()),
        "failure_rate": round(failed / (succeeded + failed), 4) if succeeded + failed else 0.0,
        "run_retries": int(rows["run_retries"].sum()),
        "step_retries": int(rows["step_retries"].sum()),
        "queued": int(rows["queued"].sum()),
        "running": int(rows["running"].sum()),
        "oldest_queued_age_s": float(rows["oldest_queued_age_s"].max()),
        "oldest_running_age_s": float(rows["oldest_running_age_s"].max()),
    }


def overall_percentiles(runs: pd.DataFrame, now: float, window: str) -> dict[str, float]:
    """p50/p95 of queue wait and run time over all jobs' runs that ended in the window (NaN when none)."""
    if runs.empty:
        return {k: float("nan") for k in ("p50_queue_wait_s", "p95_queue_wait_s", "p50_run_time_s", "p95_run_time_s")}
    runs = _classify(runs)
    ended = runs[runs["status"].isin(ENDED) & (runs["event_time"] >= now - WINDOWS[window])]
    return {
        "p50_queue_wait_s": _pct(ended["queue_wait_s"], 50),
        "p95_queue_wait_s": _pct(ended["queue_wait_s"], 95),
        "p50_run_time_s": _pct(ended["run_time_s"], 50),
        "p95_run_time_s": _pct(ended["run_time_s"], 95),
    }


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return "-" if np.isnan(value) else f"{value:.1f}"
    return str(value)


def markdown_table(frame: pd.DataFrame, columns: list[str]) -> str:
    """A small markdown table (for asset metadata); NaN shows as '-'."""
    if frame.empty:
        return "_none_"
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in frame[columns].itertuples(index=False):
        lines.append("| " + " | ".join(_fmt(v).replace("|", "\\|") for v in row) + " |")
    return "\n".join(lines)
