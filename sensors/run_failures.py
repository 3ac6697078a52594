"""Run-failure sensor: every failed run is recorded in `run_failures` and sent through the notifier."""


import dagster as dg
import pandas as pd

from resources.notifier import NotifierResource
from resources.warehouse import WarehouseResource, utc_now_iso

RUN_FAILURES_TABLE = "run_failures"


def failure_record(context: dg.RunFailureSensorContext) -> dict[str, object]:
    run = context.dagster_run
    failure = context.failure_event
    message = (failure.message or "") if failure is not None else ""
    return {
        "run_id": run.run_id,
        "job_name": run.job_name,
        "partition": run.tags.get("dagster/partition")
        or (
            f"{run.tags.get('dagster/asset_partition_range_start')}..{run.tags.get('dagster/asset_partition_range_end')}"
            if run.tags.get("dagster/asset_partition_range_start")
            else None
        ),
        "retry_number": int(run.tags.get("dagster/retry_number", "0")),
        "message": message[:2000],
        "recorded_at": utc_now_iso(),
    }


@dg.run_failure_sensor(
    name="run_failure_sensor",
    monitor_all_code_locations=False,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Records each failed run (job, partition, retry number, error) and sends a notice.",
)
def run_failure_sensor(
    context: dg.RunFailureSensorContext, warehouse: WarehouseResource, notifier: NotifierResource
) -> None:
    record = failure_record(context)
    # Keyed by run id: a re-evaluated tick replaces its row instead of duplicating it.
    warehouse.replace_rows(RUN_FAILURES_TABLE, pd.DataFrame([record]), {"run_id": record["run_id"]})
    notifier.send(f"skillatlas run failed: {record['job_name']}", record, log=context.log)
