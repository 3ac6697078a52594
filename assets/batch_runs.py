"""How a document asset materialises its upload batches: one batch at a time, each committed and recorded.

The upload batch is the unit of work. Normally a run holds one batch (the inbox sensor requests one run per
batch; backfills run one batch per run), so Dagster records the partition as materialised when its step ends,
right after the commit, with that batch's own metadata. A run over a range of batches (partition-range tags)
still works batch by batch: each batch is committed in its own transaction and logged as a materialisation of
its partition at that moment, with its own metadata; a failing batch fails alone (the step fails at the end,
naming it); the others stay committed.

Every commit is recorded in `batch_commits` (asset, batch, version, input fingerprint) in the same transaction
as the batch's rows and ledger rows. Any retry — step retry, run retry, re-execution from failure, the same run
request again — skips the batches already committed for the current version and input, and redoes the rest.
The run tag `skillatlas/force=true` redoes them anyway.

An interrupt (Ctrl-C, a cancel from the UI) is never a transient failure: it fails the step without a step
retry, keeping the batches committed so far.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import dagster as dg
import pandas as pd

from assets.catalog import table_preview
from assets.partitions import checked_keys
from resources.warehouse import WarehouseResource
from skillatlas.errors import ErrorKind, ItemError, classify_exception
from skillatlas.ingest.batches import BatchResult
from skillatlas.store.batches import BatchInputMissing, commit_batch, is_current, previous_commits

FORCE_TAG = "skillatlas/force"


@dataclass(frozen=True)
class BatchWork:
    """What an asset does with one batch: `fingerprint()` of its input, then `process(progress)` its rows."""

    fingerprint: str
    process: Callable[[Callable[[int, int, int], None]], BatchResult]


def batch_metadata(result: BatchResult, rows_label: str) -> dict[str, Any]:
    """A batch's own figures, as shown on its partition in the UI."""
    kinds = Counter(f.error_kind for f in result.failures)
    return {
        "processed": result.processed,
        "succeeded": result.succeeded,
        "failed": result.failed,
        "skipped": 0,
        "failure_rate": round(result.failed / result.processed, 4) if result.processed else 0.0,
        "dagster/row_count": len(result.rows),
        rows_label: len(result.rows),
        "failures_by_kind": dg.MetadataValue.json(dict(kinds)),
    }


def materialize_batches(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    *,
    table: str,
    columns: list[str],
    version: str,
    work_for: Callable[[str], BatchWork],
    extra_metadata: Callable[[BatchResult], dict[str, Any]] | None = None,
    after_commit: Callable[[str], dict[str, Any]] | None = None,
) -> dg.MaterializeResult:
    """Materialise the run's batches one at a time (see the module docstring)."""
    keys = checked_keys(list(context.partition_keys))
    force = context.run.tags.get(FORCE_TAG, "").lower() == "true"
    commits = previous_commits(warehouse.engine, table, keys)
    in_range = len(keys) > 1
    done: list[str] = []
    failed: dict[str, ItemError] = {}
    last_metadata: dict[str, Any] = {}
    try:
        for key in keys:
            try:
                work = work_for(key)
                previous = commits.get(key)
                if not force and previous is not None and is_current(previous, version, work.fingerprint):
                    last_metadata = skipped_metadata(previous)
                    context.log.info(
                        f"batch {key}: already committed by run {str(previous['run_id'])[:8]} for version "
                        f"{version}; skipped (run tag {FORCE_TAG}=true redoes it)"
                    )
                else:
                    result = work.process(progress_logger(context, key))
                    last_metadata = {
                        **batch_metadata(result, "rows"),
                        **(extra_metadata(result) if extra_metadata else {}),
                        # the UI's preview of the batch (e.g. its top skills), see assets.catalog
                        **table_preview(table, pd.DataFrame(result.rows, columns=columns)),
                        "version": version,
                    }
                    commit_batch(
                        warehouse.engine,
                        table,
                        columns,
                        result,
                        version=version,
                        fingerprint=work.fingerprint,
                        run_id=context.run.run_id,
                        metadata=last_metadata,
                    )
                    for failure in result.failures[:20]:
                        context.log.warning(f"{table}[{key}] {failure.item}: {failure.error_kind}: {failure.message}")
                    context.log.info(
                        f"batch {key}: committed {result.processed} documents ({result.failed} failed, "
                        f"{len(result.rows)} rows)"
                    )
                if after_commit is not None:
                    # idempotent follow-up (retiring older versions), after a fresh commit and also when the
                    # batch is skipped as committed: a run that died right after its commit never did it
                    last_metadata.update(after_commit(key))
            except BatchInputMissing as exc:
                if not in_range:
                    raise dg.Failure(str(exc), allow_retries=False) from exc
                failed[key] = ItemError(ErrorKind.INVALID_INPUT, str(exc))
                context.log.error(f"batch {key} failed: {exc}")
                continue
            except Exception as exc:
                if not in_range:
                    raise  # the step's RetryPolicy decides; committed work is skipped on retry
                failed[key] = classify_exception(exc)
                context.log.error(f"batch {key} failed: {failed[key]}")
                continue
            done.append(key)
            if in_range:
                # the partition is materialised now, with its own figures, not when the whole range ends
                context.log_event(
                    dg.AssetMaterialization(asset_key=context.asset_key, partition=key, metadata=last_metadata)
                )
    except (dg.DagsterExecutionInterruptedError, KeyboardInterrupt) as exc:
        # An interrupt is a decision, not a transient fault: no step retry. Finished batches stay committed.
        raise dg.Failure(
            f"interrupted after {len(done)} of {len(keys)} batch(es) were committed ({', '.join(done) or 'none'}); "
            "re-running redoes only the others",
            allow_retries=False,
        ) from exc
    if failed:
        transient = any(error.transient for error in failed.values())
        raise dg.Failure(
            f"{len(failed)} of {len(keys)} batches failed ({len(done)} committed and materialised): "
            + "; ".join(f"{k}: {v}" for k, v in failed.items()),
            allow_retries=transient,
        )
    if in_range:
        # Each partition already has its own materialisation above; this one closes the range.
        return dg.MaterializeResult(
            metadata={"range_batches": len(keys), "note": "per-batch figures on each partition"}
        )
    return dg.MaterializeResult(metadata=last_metadata)


def skipped_metadata(previous: dict[str, Any]) -> dict[str, Any]:
    return {
        "processed": 0,
        "succeeded": 0,
        "failed": int(previous["failed"]),
        "skipped": int(previous["processed"]),
        "dagster/row_count": int(previous["row_count"]),
        "already_committed_by_run": str(previous["run_id"]),
        "committed_at": str(previous["committed_at"]),
        "version": str(previous["version"]),
    }


def progress_logger(context: dg.AssetExecutionContext, key: str) -> Callable[[int, int, int], None]:
    def log(done: int, total: int, failed: int) -> None:
        context.log.info(f"batch {key}: {done}/{total} documents, {failed} failed")

    return log
