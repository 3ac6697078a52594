"""`make run`: the whole asset graph on the inbox, into the instance at $DAGSTER_HOME, then a summary.

In order: refresh reference data (when missing), evaluate the inbox sensor once (registering new upload
batches), one ingest run per new batch, rebuild scores and index, roll up trends and pipeline health.
The runs are submitted to the instance for the workspace's code location and executed by a `dagster-daemon`
started for the duration (no broker needed), exactly like runs from the UI: `make ui` lists them under their
jobs, run retries and the run-failure sensor see them. The console shows each batch's progress as it happens.
Ctrl-C cancels the session's runs; batches already committed stay.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys
import time
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg

from assets.partitions import partition_range_tags
from skillatlas.store.tables import DOCUMENT_TEXT

warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.PreviewWarning)
warnings.filterwarnings("ignore", category=dg.SupersessionWarning)

ACTIVE = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]
PROGRESS_LINE = re.compile(r"^batch \S+: (\d+/\d+ documents|committed|already committed)")


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
    assert isinstance(result, dg.SensorResult), f"inbox_sensor returned {type(result).__name__}"
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

    text = warehouse_of(defs).read_table(DOCUMENT_TEXT, {"kind": "job"}, columns=["posted_date"])
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


def print_event(run: dg.DagsterRun, entry: dg.EventLogEntry) -> None:
    """The console view of a run: per-batch progress, each materialisation, failures and the run's end."""
    label = f"  {run.job_name:<22} {run.tags.get('dagster/partition', '')[:28]:<28}"
    event = entry.dagster_event
    if event is None:
        if PROGRESS_LINE.search(entry.user_message or ""):
            print(f"{label} {entry.user_message}", flush=True)
        return
    if event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
        materialization = event.step_materialization_data.materialization
        meta = materialization.metadata
        asset = materialization.asset_key.to_user_string()
        if "range_partitions" in meta:
            # one run over many partitions: each gets the same range totals, so say it once, at the range's start
            if materialization.partition == run.tags.get("dagster/asset_partition_range_start"):
                print(f"{label} {asset} materialised {meta['range_partitions'].value} partitions "
                      f"(range_rows {meta['range_rows'].value})", flush=True)
            return
        figures = ", ".join(
            f"{k} {meta[k].value}" for k in ("processed", "failed", "skipped", "dagster/row_count") if k in meta
        )
        print(f"{label} {asset} materialised ({figures})", flush=True)
    elif event.event_type == dg.DagsterEventType.STEP_FAILURE and event.step_failure_data is not None:
        error = event.step_failure_data.error
        message = error.message.strip().splitlines()[-1][:300] if error is not None else "(no message)"
        print(f"{label} {event.step_key} FAILED: {message}", flush=True)
    elif event.event_type in (
        dg.DagsterEventType.RUN_SUCCESS,
        dg.DagsterEventType.RUN_FAILURE,
        dg.DagsterEventType.RUN_CANCELED,
    ):
        print(f"{label} run {run.run_id[:8]} {event.event_type.value.removeprefix('PIPELINE_').lower()}", flush=True)


def run_through_instance(defs: dg.Definitions, instance: dg.DagsterInstance, *, refresh_reference: bool) -> bool:
    """`make run`: the same steps as `run_pipeline`, but every run is submitted to the instance for the
    workspace's code location and executed by the daemon's run launcher (origin, retries, monitoring)."""
    from jobs.launcher import Daemon, cancel_runs, launch, wait_for_runs

    ok = True
    session = f"make-run-{int(time.time())}"
    launched: list[str] = []
    daemon_log = Path(os.environ["DAGSTER_HOME"]) / "make-run-daemon.log"

    def submit(job_name: str, tags: Mapping[str, str] | None = None) -> str:
        run_id = launch(job_name, {**(tags or {}), "skillatlas/launched_by": session})
        launched.append(run_id)
        return run_id

    def wait(run_ids: list[str]) -> bool:
        runs = wait_for_runs(instance, run_ids, on_event=print_event)
        return all(run.status == dg.DagsterRunStatus.SUCCESS for run in runs.values())

    def interrupted() -> bool:
        # inside the daemon's lifetime: its code server hands the termination to the run workers
        print("\ninterrupted: cancelling this session's runs (finished batches stay committed) ...", flush=True)
        cancel_runs(instance, launched)
        wait_for_runs(instance, launched, poll_seconds=0.5)
        return False

    if refresh_reference or _needs_reference(instance):
        with Daemon(daemon_log):
            try:
                ok &= wait([submit("reference_job")])
            except KeyboardInterrupt:
                return interrupted()
    # Registration while no daemon runs: the daemon's own inbox sensor cannot register the same files in a
    # concurrent tick. It then finds the batches registered and requests nothing more.
    requests = register_inbox(defs, instance)
    ingest = [r for r in requests if r.partition_key is not None]
    with Daemon(daemon_log):
        try:
            # Ingest runs already requested by the daemon's own inbox sensor (it may have registered the batches
            # while reference data was being built) are waited for and shown too.
            pending = [
                run.run_id for run in instance.get_runs(dg.RunsFilter(job_name="ingest_batch_job", statuses=ACTIVE))
            ]
            launched.extend(pending)  # this session waits for them, so Ctrl-C cancels them too
            if ingest or pending:
                print(f"  ingesting {len(ingest) + len(pending)} upload batch(es), one run each", flush=True)
                ok &= wait(
                    pending
                    + [
                        submit(r.job_name or "ingest_batch_job", {**r.tags, "dagster/partition": str(r.partition_key)})
                        for r in ingest
                    ]
                )
            elif requests:  # the sensor still holds ingest (e.g. the reference data failed to build)
                print("  inbox_sensor holds ingest: see the reference_job run", flush=True)
                ok = False
            ok &= wait([submit("rebuild_scores_job")])
            days = posting_day_range(defs)
            if days is not None:
                ok &= wait([submit("trends_daily_job", partition_range_tags(*days))])
                ok &= wait([submit("trends_job")])
            ok &= wait([submit("health_job")])
        except KeyboardInterrupt:
            return interrupted()
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jobs.pipeline_run", description=__doc__)
    parser.add_argument("--refresh-reference", action="store_true", help="rebuild taxonomy and vectors")
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="execute in this process (no daemon; runs have no code-location origin: for debugging only)",
    )
    args = parser.parse_args(argv)

    if not os.environ.get("DAGSTER_HOME"):
        print("DAGSTER_HOME is not set: run through `make run`, or export DAGSTER_HOME", file=sys.stderr)
        return 2
    from definitions import defs
    from jobs.summary import print_summary

    # Ctrl-C and SIGTERM stop the session in order (cancel its runs, keep committed batches), even when this
    # process was started from a script that ignores SIGINT for its background children.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    started = time.perf_counter()
    with dg.DagsterInstance.get() as instance:
        print(f"skillatlas: instance {os.environ['DAGSTER_HOME']}")
        if args.in_process:
            ok = run_pipeline(defs, instance, refresh_reference=args.refresh_reference)
        else:
            ok = run_through_instance(defs, instance, refresh_reference=args.refresh_reference)
    print_summary(defs)
    print(f"total {time.perf_counter() - started:.1f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
