"""Partitions shared by the asset graph, and the one check of partition keys that come from outside."""

from collections.abc import Iterable

import dagster as dg

from skillatlas.ingest.validation import validate_partition_key

# One partition per upload batch (<= 100 documents), added by the inbox sensor.
UPLOAD_BATCHES = "upload_batches"
upload_batches = dg.DynamicPartitionsDefinition(name=UPLOAD_BATCHES)

# Job-posting demand is counted per posting day.
posting_days = dg.DailyPartitionsDefinition(start_date="2026-09-01", end_offset=1)  # today included

# The upload batch is the unit of work: a backfill runs one batch per run, so each batch is materialised (with
# its own metadata) when it is done, fails alone, is retried alone and can run on another worker. A run costs
# ~3 s of orchestration against a minute or more of extraction per 100-document batch (see benchmarks/).
BATCH_BACKFILL_POLICY = dg.BackfillPolicy.multi_run(max_partitions_per_run=1)
DAY_BACKFILL_POLICY = dg.BackfillPolicy.single_run()


def partition_range_tags(first: str, last: str) -> dict[str, str]:
    """Run tags that make one run materialise the partitions ``first``..``last`` (a range run)."""
    return {"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last}


def checked_keys(keys: Iterable[str], what: str = "partition key") -> list[str]:
    """Partition keys come from the UI and run config too: refuse anything not shaped like a batch id
    (`skillatlas.ingest.validation.validate_partition_key`), before any work, without a step retry."""
    out = []
    for key in keys:
        try:
            out.append(validate_partition_key(key))
        except ValueError as exc:
            raise dg.Failure(f"bad {what}: {exc}", allow_retries=False) from exc
    return out
