"""The one module that imports from Dagster's private packages (``dagster._...``).

Dagster does not export these names publicly, and a Dagster upgrade may move or rename them. Everything else in
the project imports them from here, so an upgrade that breaks one of them fails in one place, with one clear
message (``tests/dagster/test_private_imports.py`` imports each name and checks that no other module imports
``dagster._...``). Re-export only what is used, and say where.
"""

from __future__ import annotations

# tests/dagster/test_end_to_end.py: the status of asset check executions read from the event log.
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

# resources/warehouse.py: the warehouse IO manager follows Dagster's DbIOManager / DbClient pattern
# (there is no public base for database IO managers).
from dagster._core.storage.db_io_manager import (
    DbClient,
    DbIOManager,
    DbTypeHandler,
    TablePartitionDimension,
    TableSlice,
)

__all__ = [
    "AssetCheckExecutionRecordStatus",
    "DbClient",
    "DbIOManager",
    "DbTypeHandler",
    "TablePartitionDimension",
    "TableSlice",
]
