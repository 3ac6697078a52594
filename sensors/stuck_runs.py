"""Stuck-run sensor: a document run whose running step has shown no progress for N minutes is cancelled.

A wall-clock limit (`dagster/max_runtime`) cannot tell a long healthy backfill from a stuck one, and counts
time spent waiting for pool slots. Document steps log a progress line every 10 documents and a line per batch,
so silence is the signal: a started step with no event for `SKILLATLAS_STUCK_MINUTES` (default 15) is stuck.
This governs every run that materialises document assets — sensor, backfill, automation, UI "Materialize" —
whatever its tags. A stuck run is cancelled (never auto-retried with the same limit: `run_retries` does not
retry cancelled runs), tagged `skillatlas/stuck`, and recorded in `run_failures` with the reason, so the
run-failure notices and the operator see it; its committed batches stay, and re-running redoes the rest.
"""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg
import pandas as pd

from resources.notifier import NotifierResource
from resources.warehouse import WarehouseResource, utc_now_iso
from sensors.common import polling_sensor
from skillatlas.settings import Settings, load_settings
from skillatlas.store.tables import DOCUMENT_SKILLS, DOCUMENT_TEXT, RUN_FAILURES

DOCUMENT_ASSETS = frozenset({dg.AssetKey(DOCUMENT_TEXT), dg.AssetKey(DOCUMENT_SKILLS)})
STUCK_TAG = "skillatlas/stuck"
DEFAULT_STUCK_MINUTES = Settings.model_fields["stuck_minutes"].default
STEP_EVENTS = {
    dg.DagsterEventType.STEP_START,
    dg.DagsterEventType.STEP_SUCCESS,
    dg.DagsterEventType.STEP_FAILURE,
    dg.DagsterEventType.STEP_UP_FOR_RETRY,
    dg.DagsterEventType.STEP_RESTARTED,
}


def stuck_minutes() -> float:
    """SKILLATLAS_STUCK_MINUTES (positive; see `skillatlas.settings`)."""
    return load_settings().stuck_minutes


def is_document_run(run: dg.DagsterRun) -> bool:
    return run.job_name == "ingest_batch_job" or bool(DOCUMENT_ASSETS & set(run.asset_selection or ()))


def running_steps(instance: dg.DagsterInstance, run_id: str) -> set[str]:
    """Steps started (or restarted) and not ended or up for retry since, in event order."""
    running: set[str] = set()
    for record in instance.get_records_for_run(run_id, of_type=STEP_EVENTS).records:
        entry = record.event_log_entry
        event_type = entry.dagster_event_type
        if event_type in (dg.DagsterEventType.STEP_START, dg.DagsterEventType.STEP_RESTARTED):
            running.add(str(entry.step_key))
        else:
            running.discard(str(entry.step_key))
    return running


def seconds_since_last_event(instance: dg.DagsterInstance, run_id: str, now: float) -> float | None:
    records = instance.get_records_for_run(run_id, limit=1, ascending=False).records
    if not records:
        return None
    return now - records[0].event_log_entry.timestamp


def find_stuck_runs(
    instance: dg.DagsterInstance, limit_minutes: float, now: float
) -> list[tuple[dg.DagsterRun, float]]:
    """(run, silent seconds) for every started document run whose running step has been silent too long."""
    stuck: list[tuple[dg.DagsterRun, float]] = []
    for run in instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED])):
        if not is_document_run(run) or run.tags.get(STUCK_TAG):
            continue
        silent = seconds_since_last_event(instance, run.run_id, now)
        if silent is None or silent < limit_minutes * 60:
            continue
        if running_steps(instance, run.run_id):  # waiting for a pool slot or a queue is not being stuck
            stuck.append((run, silent))
    return stuck


@polling_sensor(
    "stuck_run_sensor",
    "Cancels document runs (any trigger) whose running step has logged nothing for SKILLATLAS_STUCK_MINUTES "
    "(default 15; steps log every 10 documents) and records why in run_failures. Committed batches stay.",
)
def stuck_run_sensor(
    context: dg.SensorEvaluationContext, warehouse: WarehouseResource, notifier: NotifierResource
) -> dg.SkipReason:
    limit = stuck_minutes()
    now = datetime.now(UTC).timestamp()
    stuck = find_stuck_runs(context.instance, limit, now)
    for run, silent in stuck:
        reason = (
            f"no progress for {silent / 60:.0f} min (limit {limit:g} min): cancelled; batches already committed "
            "stay materialised, re-running the run redoes only the others"
        )
        context.log.warning(f"run {run.run_id} ({run.job_name} {run.tags.get('dagster/partition', '')}): {reason}")
        context.instance.add_run_tags(run.run_id, {STUCK_TAG: f"{silent / 60:.0f}min"})
        context.instance.report_engine_event(f"skillatlas: {reason}", run)
        context.instance.run_coordinator.cancel_run(run.run_id)
        record = {
            "run_id": run.run_id,
            "job_name": run.job_name,
            "partition": run.tags.get("dagster/partition"),
            "retry_number": int(run.tags.get("dagster/retry_number", "0")),
            "message": f"stuck: {reason}",
            "recorded_at": utc_now_iso(),
        }
        warehouse.replace_rows(RUN_FAILURES, pd.DataFrame([record]), {"run_id": run.run_id})
        # a cancelled run gets no run-failure notice: this is its notice, with the cause and the link
        notifier.send(
            f"skillatlas run stuck and cancelled: {run.job_name}",
            {**record, "status": "stuck", "run_url": notifier.run_url(run.run_id)},
            log=context.log,
        )
    return dg.SkipReason(f"{len(stuck)} stuck document run(s) cancelled (limit {limit:g} min without progress)")
