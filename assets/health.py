"""Pipeline health: what operators watch, computed from Dagster's own run history."""

import time

import dagster as dg
import pandas as pd

from resources.warehouse import WarehouseResource
from skillatlas.health import job_health, overall

HEALTH_GROUP = "operations"
LOOKBACK_RUNS = 5000


def run_history(instance: dg.DagsterInstance, limit: int = LOOKBACK_RUNS) -> pd.DataFrame:
    records = instance.get_run_records(limit=limit)
    rows = [
        {
            "run_id": r.dagster_run.run_id,
            "job_name": r.dagster_run.job_name,
            "status": r.dagster_run.status.value,
            "create_time": r.create_timestamp.timestamp(),
            "start_time": r.start_time,
            "end_time": r.end_time,
            "retry_number": int(r.dagster_run.tags.get("dagster/retry_number", "0")),
        }
        for r in records
    ]
    return pd.DataFrame(
        rows, columns=["run_id", "job_name", "status", "create_time", "start_time", "end_time", "retry_number"]
    ).astype({"start_time": float, "end_time": float})


@dg.asset(group_name=HEALTH_GROUP, kinds={"pandas"}, tags={"skillatlas/queue": "reference"})
def pipeline_health(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> pd.DataFrame:
    """Per job: runs, failures and failure rate, retried runs, p50/p95 durations, queued depth and the age of
    the oldest running run (a stuck-run signal), from the instance's run history; items failed by kind from
    the error ledger. Numeric metadata, so the UI plots them over time."""
    health = job_health(run_history(context.instance), now=time.time())
    ledger = warehouse.read_table("item_failures")
    by_kind = ledger["error_kind"].value_counts().to_dict() if not ledger.empty else {}
    totals = overall(health)
    context.add_output_metadata(
        {
            **totals,
            "items_failed": int(len(ledger)),
            "items_failed_by_kind": dg.MetadataValue.json({str(k): int(v) for k, v in by_kind.items()}),
        }
    )
    return health
