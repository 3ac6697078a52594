"""The item-level error ledger: one row per failed item, so nothing fails silently.

Each materialisation of a partition replaces that partition's open failures for the asset (a retried
item that now succeeds disappears from the open list); every row is also kept in `item_failure_history`.
"""


from collections.abc import Sequence

import pandas as pd

from resources.warehouse import utc_now_iso
from skillatlas.ingest.batches import ItemFailure  # noqa: F401 - the ledger's item type, defined with the batch code

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
