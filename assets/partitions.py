"""Partitions shared by the asset graph."""

import dagster as dg

# One partition per upload batch (<= 100 documents), added by the inbox sensor.
upload_batches = dg.DynamicPartitionsDefinition(name="upload_batches")

# Job-posting demand is counted per posting day.
posting_days = dg.DailyPartitionsDefinition(start_date="2026-09-01", end_offset=1)  # today included

# Range runs: a backfill of many batches runs in few runs (a Dagster run costs seconds).
BATCH_BACKFILL_POLICY = dg.BackfillPolicy.multi_run(max_partitions_per_run=25)
DAY_BACKFILL_POLICY = dg.BackfillPolicy.single_run()


def partition_range_tags(first: str, last: str) -> dict[str, str]:
    """Run tags that make one run materialise the partitions ``first``..``last`` (a range run)."""
    return {"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last}
