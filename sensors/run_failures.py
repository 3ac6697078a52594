"""Run-failure notices: one per failed run (not per attempt), with its cause and a link; "recovered" on a retry.

Every failed attempt is recorded in `run_failures`. A notice goes out only when the failure is final:
- an attempt that Dagster's run retries will retry (run tag `dagster/will_retry` = true) sends nothing yet;
- attempts are grouped by their root run id (`dagster/root_run_id`): at most one failure notice per root,
  so a run that fails, is retried and fails again notifies once; step retries happen inside one run and
  never reach this sensor;
- when a later attempt of a root that failed succeeds, one short "recovered" notice goes out.
Sent notices are recorded in `run_notices` (root run id, kind) after the send succeeds, so a tick that is
evaluated again (or a send that failed and is retried) never notifies twice and never loses a notice.
"""

from typing import Any

import dagster as dg
import pandas as pd
import sqlalchemy as sa

from resources.notifier import NotifierResource
from resources.warehouse import WarehouseResource, reflect_table, utc_now_iso
from skillatlas.store.tables import ITEM_FAILURES, RUN_FAILURES, RUN_NOTICES

ROOT_TAG = "dagster/root_run_id"
WILL_RETRY_TAG = "dagster/will_retry"
FAILURE_PREFIX = "dagster._core.definitions.events."  # shown as `Failure: ...`, not its module path


def root_run_id(run: dg.DagsterRun) -> str:
    return run.tags.get(ROOT_TAG) or run.root_run_id or run.run_id


def run_partitions(run: dg.DagsterRun) -> str | None:
    tags = run.tags
    if tags.get("dagster/partition"):
        return tags["dagster/partition"]
    start = tags.get("dagster/asset_partition_range_start")
    return f"{start}..{tags.get('dagster/asset_partition_range_end')}" if start else None


def first_error(events: list[Any]) -> tuple[str | None, str | None]:
    """(failed step, root-cause message) of the first step failure: the user's exception, not Dagster's
    "Error occurred while executing op" wrapper around it."""
    for event in events:
        error = getattr(event.event_specific_data, "error", None)
        if error is None:
            continue
        while error.cause is not None:
            error = error.cause
        return event.step_key, error.message.strip().removeprefix(FAILURE_PREFIX)
    return (events[0].step_key, None) if events else (None, None)


def will_be_retried(instance: dg.DagsterInstance, run: dg.DagsterRun) -> bool:
    """Whether Dagster's run retries will launch another attempt of this run. The instance tags each failed
    run with `dagster/will_retry` when run retries are enabled; without the tag no retry is coming."""
    return run.tags.get(WILL_RETRY_TAG, "false").lower() == "true" and instance.run_retries_enabled


def attempt_run_ids(instance: dg.DagsterInstance, root: str) -> list[str]:
    """The root run and every retry or re-execution of it."""
    records = instance.get_run_records(dg.RunsFilter(tags={ROOT_TAG: root}), limit=100)
    return [root, *[r.dagster_run.run_id for r in records if r.dagster_run.run_id != root]]


def already_sent(warehouse: WarehouseResource, root: str, kind: str) -> bool:
    return not warehouse.read_table(RUN_NOTICES, {"root_run_id": root, "kind": kind}).empty


def mark_sent(warehouse: WarehouseResource, root: str, kind: str, run_id: str) -> None:
    row = pd.DataFrame([{"root_run_id": root, "kind": kind, "run_id": run_id, "sent_at": utc_now_iso()}])
    warehouse.replace_rows(RUN_NOTICES, row, {"root_run_id": root, "kind": kind})


def failure_record(context: dg.RunFailureSensorContext) -> dict[str, object]:
    # the run as stored now: `dagster/will_retry` is added after the failure event the sensor was given
    run = context.instance.get_run_by_id(context.dagster_run.run_id) or context.dagster_run
    step, cause = first_error(list(context.get_step_failure_events()))
    if cause is None and context.failure_event is not None:
        cause = context.failure_event.message  # a launch failure or a crashed run worker: no step failed
    return {
        "run_id": run.run_id,
        "root_run_id": root_run_id(run),
        "job_name": run.job_name,
        "partition": run_partitions(run),
        "retry_number": int(run.tags.get("dagster/retry_number", "0") or 0),
        "will_retry": will_be_retried(context.instance, run),
        "failed_step": step,
        "message": (cause or "")[:2000],
        "recorded_at": utc_now_iso(),
    }


def add_missing_columns(warehouse: WarehouseResource, table: str, frame: pd.DataFrame) -> None:
    """`run_failures` gained columns (root run, will_retry, failed step): add them to a table written by an
    older version instead of failing every notice until someone drops it."""
    with warehouse.engine.begin() as conn:
        existing = reflect_table(conn, table)
        if existing is None:
            return
        for column in frame.columns:
            if column not in existing.c:
                conn.execute(sa.text(f'ALTER TABLE {table} ADD COLUMN "{column}" TEXT'))


def failed_item_count(warehouse: WarehouseResource, run_ids: list[str]) -> int:
    return len(warehouse.read_table(ITEM_FAILURES, {"run_id": run_ids}))


@dg.run_failure_sensor(
    name="run_failure_sensor",
    monitor_all_code_locations=False,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Records each failed run attempt in run_failures and sends one notice per failed run (attempts "
    "that run retries will retry wait; one notice per root run id): the first error, the failed step, the "
    "partition(s), the failed item count and a link to the run.",
)
def run_failure_sensor(
    context: dg.RunFailureSensorContext, warehouse: WarehouseResource, notifier: NotifierResource
) -> None:
    record = failure_record(context)
    # Keyed by run id: a re-evaluated tick replaces its row instead of duplicating it.
    frame = pd.DataFrame([record])
    add_missing_columns(warehouse, RUN_FAILURES, frame)
    warehouse.replace_rows(RUN_FAILURES, frame, {"run_id": record["run_id"]})
    root = str(record["root_run_id"])
    if record["will_retry"]:
        context.log.info(f"run {record['run_id']} failed and will be retried: notice waits for the last attempt")
        return
    if already_sent(warehouse, root, "failed"):
        context.log.info(f"run {record['run_id']}: a failure notice for root run {root} was already sent")
        return
    attempts = attempt_run_ids(context.instance, root)
    payload = {
        "status": "failed",
        "job_name": record["job_name"],
        "run_id": record["run_id"],
        "root_run_id": root,
        "attempts": len(attempts),
        "partition": record["partition"],
        "failed_step": record["failed_step"],
        "error": record["message"],
        "failed_items": failed_item_count(warehouse, attempts),
        "url": notifier.run_url(str(record["run_id"])),
    }
    title = f"skillatlas run failed: {record['job_name']}"
    if record["partition"]:
        title += f" [{record['partition']}]"
    notifier.send(title, payload, log=context.log)
    mark_sent(warehouse, root, "failed", str(record["run_id"]))


@dg.run_status_sensor(
    name="run_recovery_sensor",
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitor_all_code_locations=False,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Sends one short 'recovered' notice when a retry or re-execution of a failed run succeeds.",
)
def run_recovery_sensor(
    context: dg.RunStatusSensorContext, warehouse: WarehouseResource, notifier: NotifierResource
) -> None:
    run = context.dagster_run
    root = root_run_id(run)
    if root == run.run_id or already_sent(warehouse, root, "recovered"):
        return
    attempts = attempt_run_ids(context.instance, root)
    if warehouse.read_table(RUN_FAILURES, {"run_id": attempts}).empty:
        return  # no attempt of this root failed (e.g. a re-execution of a successful run)
    payload = {
        "status": "recovered",
        "job_name": run.job_name,
        "run_id": run.run_id,
        "root_run_id": root,
        "attempts": len(attempts),
        "partition": run_partitions(run),
        "url": notifier.run_url(run.run_id),
    }
    notifier.send(f"skillatlas run recovered: {run.job_name}", payload, log=context.log)
    mark_sent(warehouse, root, "recovered", run.run_id)
