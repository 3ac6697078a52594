"""The item-level error ledger: one row per failed item, so nothing fails silently.

Each materialisation of a partition replaces that partition's open failures for the asset (a retried
item that now succeeds disappears from the open list); every row is also kept in `item_failure_history`.
"""


from collections.abc import Sequence

import dagster as dg
import pandas as pd

from resources.warehouse import WarehouseResource, utc_now_iso
from skillatlas.batches import ItemFailure  # noqa: F401 - the ledger's item type, defined with the batch code

LEDGER_TABLE = "item_failures"
HISTORY_TABLE = "item_failure_history"
# Inbox entries the sensor refused (symlink out of the inbox, FIFO, oversized, ...): one row per path and reason.
SKIPPED_TABLE = "skipped_uploads"
LEDGER_COLUMNS = [
    "asset", "partition", "item", "error_kind", "message", "transient", "attempts", "run_id", "failed_at",
]


def failures_frame(asset: str, run_id: str, failures: Sequence[ItemFailure]) -> pd.DataFrame:
    now = utc_now_iso()
    rows = [
        {
            "asset": asset,
            "partition": f.partition,
            "item": f.item,
            "error_kind": f.error_kind,
            "message": f.message[:2000],
            "transient": bool(f.transient),
            "attempts": int(f.attempts),
            "run_id": run_id,
            "failed_at": now,
        }
        for f in failures
    ]
    return pd.DataFrame(rows, columns=LEDGER_COLUMNS)


def record_failures(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    asset: str,
    partitions: Sequence[str],
    failures: Sequence[ItemFailure],
) -> None:
    frame = failures_frame(asset, context.run.run_id, failures)
    warehouse.replace_rows(LEDGER_TABLE, frame, {"asset": asset, "partition": list(partitions)})
    if not frame.empty:
        warehouse.append_rows(HISTORY_TABLE, frame)
        for failure in failures[:20]:
            context.log.warning(f"{asset}[{failure.partition}] {failure.item}: {failure.error_kind}: {failure.message}")
        if len(failures) > 20:
            context.log.warning(f"... and {len(failures) - 20} more item failures in table {LEDGER_TABLE}")
