"""Pipeline health: what operators watch, computed from Dagster's own run storage at read time.

Both the `pipeline_health` asset (materialised every 5 minutes by health_schedule) and `skillatlas health`
(computed on each call) go through `live_report`, which reads the instance's run records and step events
through public `DagsterInstance` APIs; the figures themselves come from `skillatlas.health` (pure pandas).
"""


import time
from datetime import UTC, datetime
from typing import Any

import dagster as dg
import pandas as pd

from assets.catalog import OPS_OWNERS, table_kinds, table_metadata
from resources.warehouse import WarehouseResource
from skillatlas.health import (
    JOB_COLUMNS,
    RUN_COLUMNS,
    WINDOWS,
    empty_runs,
    item_retries,
    job_health,
    markdown_table,
    overall,
    overall_percentiles,
    queue_health,
)
from skillatlas.store.tables import ITEM_FAILURE_HISTORY, ITEM_FAILURES, PIPELINE_HEALTH

HEALTH_GROUP = "operations"
QUEUE_TAG = "skillatlas/queue"
# Run records read per call; step events are read for at most this many ended runs (newest first), since that
# is one query per run. `step_retries_runs_read` in the metadata says how many were read.
MAX_RUNS = 10_000
MAX_EVENT_RUNS = 2_000
IN_FLIGHT = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


def run_history(
    instance: dg.DagsterInstance, now: float, lookback_s: float = WINDOWS["7d"]
) -> tuple[pd.DataFrame, int]:
    """Runs updated within the lookback (so every run that ended in any window) plus every run still in
    flight however old, with the number of step retries of each; and how many runs' events were read."""
    since = datetime.fromtimestamp(now - lookback_s, tz=UTC)
    records = {
        r.dagster_run.run_id: r for r in instance.get_run_records(dg.RunsFilter(updated_after=since), limit=MAX_RUNS)
    }
    for r in instance.get_run_records(dg.RunsFilter(statuses=IN_FLIGHT), limit=MAX_RUNS):
        records.setdefault(r.dagster_run.run_id, r)
    if not records:
        return empty_runs(), 0
    rows = []
    events_read = 0
    for r in sorted(records.values(), key=lambda rec: rec.create_timestamp, reverse=True):
        run = r.dagster_run
        step_retries = 0
        if run.status.value in ("SUCCESS", "FAILURE", "CANCELED") and events_read < MAX_EVENT_RUNS:
            step_retries = len(
                instance.get_records_for_run(run.run_id, of_type=dg.DagsterEventType.STEP_UP_FOR_RETRY).records
            )
            events_read += 1
        rows.append(
            {
                "run_id": run.run_id,
                "job_name": run.job_name,
                "queue": run.tags.get(QUEUE_TAG, ""),
                "status": run.status.value,
                "create_time": r.create_timestamp.timestamp(),
                "start_time": r.start_time,
                "end_time": r.end_time,
                "retry_number": int(run.tags.get("dagster/retry_number", "0") or 0),
                "step_retries": step_retries,
            }
        )
    frame = pd.DataFrame(rows, columns=RUN_COLUMNS).astype({"start_time": float, "end_time": float})
    return frame, events_read


def live_report(instance: dg.DagsterInstance, ledger_history: pd.DataFrame, now: float | None = None) -> dict[str, Any]:
    """Everything health shows, as of `now` (default: this moment)."""
    now = time.time() if now is None else now
    runs, events_read = run_history(instance, now)
    jobs = job_health(runs, now)
    queues = queue_health(runs, now)
    retries = item_retries(ledger_history, now)
    windows = {
        window: {**overall(jobs, window), **overall_percentiles(runs, now, window), "item_retries": retries[window]}
        for window in WINDOWS
    }
    return {
        "as_of": now,
        "as_of_iso": datetime.fromtimestamp(now, tz=UTC).isoformat(timespec="seconds"),
        "windows": windows,
        "jobs": jobs,
        "queues": queues,
        "runs_read": len(runs),
        "step_retries_runs_read": events_read,
    }


def health_metadata(report: dict[str, Any]) -> dict[str, Any]:
    """Numeric metadata (one plot per key in the UI) plus markdown tables per job and per queue."""
    metadata: dict[str, Any] = {
        "as_of": dg.MetadataValue.timestamp(report["as_of"]),
        "runs_read": report["runs_read"],
        "step_retries_runs_read": report["step_retries_runs_read"],
    }
    for window, figures in report["windows"].items():
        for key, value in figures.items():
            # NaN percentiles (no ended run in the window) are left out rather than plotted as 0
            if isinstance(value, float) and value != value:
                continue
            metadata[f"{window}_{key}"] = value
    queues = report["queues"]
    for row in queues.itertuples(index=False):
        metadata[f"queue_{row.queue}_queued"] = int(row.queued)
        metadata[f"queue_{row.queue}_oldest_queued_age_s"] = float(row.oldest_queued_age_s)
    jobs = report["jobs"]
    table_columns = [c for c in JOB_COLUMNS if c not in ("window", "queued", "running", "oldest_queued_age_s")]
    for window in WINDOWS:
        metadata[f"jobs_{window}"] = dg.MetadataValue.md(
            f"Runs that ended in the last {window} (as of {report['as_of_iso']})\n\n"
            + markdown_table(jobs[jobs["window"] == window] if not jobs.empty else jobs, table_columns)
        )
    metadata["queues"] = dg.MetadataValue.md(
        f"Work queues now (as of {report['as_of_iso']})\n\n"
        + markdown_table(queues, ["queue", "queued", "running", "oldest_queued_age_s", "oldest_queued_run_id"])
    )
    return metadata


@dg.asset(
    group_name=HEALTH_GROUP,
    kinds={*table_kinds(), "dagster"},
    owners=OPS_OWNERS,
    metadata=table_metadata(PIPELINE_HEALTH),
    tags={QUEUE_TAG: "health"},
)
def pipeline_health(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> pd.DataFrame:
    """Pipeline health from the instance's run storage, over the last 1 h, 24 h and 7 d: per job, runs that
    ended, failures (CANCELED and launch failures counted apart, not in the failure rate), run and step retries,
    p50/p95 queue wait and run time; per work queue, queue depth and the oldest queued run; item retries from
    the ledger. Everything is numeric metadata (plotted over materialisations) plus markdown tables; the
    `as_of` timestamp says when it was computed. `skillatlas health` computes the same live."""
    report = live_report(context.instance, warehouse.read_table(ITEM_FAILURE_HISTORY))
    open_items = warehouse.read_table(ITEM_FAILURES)
    context.add_output_metadata({**health_metadata(report), "items_failed_open": len(open_items)})
    jobs = report["jobs"].copy()
    jobs["as_of"] = report["as_of_iso"]
    return jobs
