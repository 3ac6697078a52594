"""`make run`: the whole asset graph on the inbox, into the instance at $DAGSTER_HOME, then a summary.

It does what the daemon would do, in order and in this process: refresh reference data (when missing),
evaluate the inbox sensor once (registering new upload batches), run the ingest job over all new batches
in one range run, rebuild scores and index, roll up trends and pipeline health. Every run lands in the
instance's run history, so `make ui` shows them.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from typing import Any

import dagster as dg

from assets.partitions import partition_range_tags

warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.PreviewWarning)
warnings.filterwarnings("ignore", category=dg.SupersessionWarning)


def _run(job: Any, instance: dg.DagsterInstance, **kwargs: Any) -> dg.ExecuteInProcessResult:
    started = time.perf_counter()
    # Warnings and errors only on the console; the full event log is in the instance (and the UI).
    run_config = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    result = job.execute_in_process(instance=instance, raise_on_error=False, run_config=run_config, **kwargs)
    status = "ok" if result.success else "FAILED"
    print(f"  {job.name:<24} {status:<6} {time.perf_counter() - started:6.1f} s  run {result.run_id[:8]}")
    if not result.success:
        for event in result.all_events:
            if event.is_failure and event.event_specific_data is not None:
                error = getattr(event.event_specific_data, "error", None)
                if error is not None:
                    print(f"    {event.step_key}: {error.message.strip().splitlines()[-1][:500]}")
    return result


def _needs_reference(instance: dg.DagsterInstance) -> bool:
    keys = [dg.AssetKey("skill_taxonomy"), dg.AssetKey("taxonomy_vectors"), dg.AssetKey("onet_occupations")]
    return any(instance.get_latest_materialization_event(key) is None for key in keys)


def register_inbox(defs: dg.Definitions, instance: dg.DagsterInstance) -> list[dg.RunRequest]:
    """Evaluate the inbox sensor once, apply its partition requests, return its run requests."""
    sensor = defs.resolve_sensor_def("inbox_sensor")
    with dg.build_sensor_context(instance=instance, resources=defs.resources, definitions=defs) as context:
        result = sensor(context)
    if isinstance(result, dg.SkipReason) or result is None:
        return []
    for request in result.dynamic_partitions_requests or []:
        if isinstance(request, dg.DeleteDynamicPartitionsRequest):  # keys that are not batch ids
            for key in request.partition_keys or []:
                instance.delete_dynamic_partition(request.partitions_def_name, key)
        else:
            instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys or []))
    if result.skip_reason is not None:
        print(f"  inbox_sensor: {result.skip_reason.skip_message}")
    return list(result.run_requests or [])


def posting_day_range(defs: dg.Definitions) -> tuple[str, str] | None:
    """First and last posting day of the ingested job postings, clipped to the daily partitions."""
    from assets.partitions import posting_days
    from jobs.summary import warehouse_of

    text = warehouse_of(defs).read_table("document_text", {"kind": "job"})
    if text.empty or text["posted_date"].dropna().empty:
        return None
    keys = posting_days.get_partition_keys()
    dates = sorted(d for d in text["posted_date"].dropna() if keys[0] <= d <= keys[-1])
    return (dates[0], dates[-1]) if dates else None


def run_pipeline(
    defs: dg.Definitions, instance: dg.DagsterInstance, *, refresh_reference: bool = False, reference: bool = True
) -> bool:
    """Reference data (when missing), new uploads, scores and index, trends, health. True if all succeeded.

    `reference=False` skips the reference job (a caller that already materialised it elsewhere)."""
    ok = True
    if reference and (refresh_reference or _needs_reference(instance)):
        ok &= _run(defs.resolve_job_def("reference_job"), instance).success
    for request in register_inbox(defs, instance):
        job = defs.resolve_job_def(request.job_name or "ingest_batch_job")
        ok &= _run(job, instance, partition_key=request.partition_key, tags=dict(request.tags)).success
    ok &= _run(defs.resolve_job_def("rebuild_scores_job"), instance).success
    days = posting_day_range(defs)
    if days is not None:
        ok &= _run(defs.resolve_job_def("trends_daily_job"), instance, tags=partition_range_tags(*days)).success
        ok &= _run(defs.resolve_job_def("trends_job"), instance).success
    ok &= _run(defs.resolve_job_def("health_job"), instance).success
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jobs.pipeline_run", description=__doc__)
    parser.add_argument("--refresh-reference", action="store_true", help="rebuild taxonomy and vectors")
    args = parser.parse_args(argv)

    if not os.environ.get("DAGSTER_HOME"):
        print("DAGSTER_HOME is not set: run through `make run`, or export DAGSTER_HOME", file=sys.stderr)
        return 2
    from definitions import defs
    from jobs.summary import print_summary

    started = time.perf_counter()
    with dg.DagsterInstance.get() as instance:
        print(f"skillatlas: instance {os.environ['DAGSTER_HOME']}")
        ok = run_pipeline(defs, instance, refresh_reference=args.refresh_reference)
    print_summary(defs)
    print(f"total {time.perf_counter() - started:.1f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
