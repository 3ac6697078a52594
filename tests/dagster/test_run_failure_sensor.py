"""Run-failure notices: every attempt recorded, one notice per failed run with its cause and a link (against a
real local HTTP receiver), attempts that will be retried wait, and a retry that succeeds says "recovered"."""

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from resources.notifier import NotifierResource
from sensors.run_failures import run_failure_sensor, run_recovery_sensor
from skillatlas.ingest.batches import ItemFailure
from skillatlas.store.batches import failures_frame
from skillatlas.store.tables import ITEM_FAILURES, RUN_FAILURES
from tests.conftest import make_resources

BATCHES = dg.StaticPartitionsDefinition(["batch-0001"])


@dg.op
def explode(context: dg.OpExecutionContext) -> None:
    if context.run.tags.get("test/outcome") != "ok":
        raise RuntimeError("disk on fire")


@dg.job(tags={"skillatlas/queue": "ingest"}, partitions_def=BATCHES)
def failing_job() -> None:
    explode()


IN_PROCESS = {"execution": {"config": {"in_process": {}}}}


def run_once(
    instance: dg.DagsterInstance, tags: dict[str, str] | None = None, parent: dg.DagsterRun | None = None
) -> dg.DagsterRun:
    """A run of failing_job; with `parent`, a re-execution of it (same root run, as Dagster's run retries do)."""
    options = dg.ReexecutionOptions(parent_run_id=parent.run_id, step_selection=["explode"]) if parent else None
    # the run-group tags Dagster's retry daemon and the UI put on a re-execution (execute_job does not)
    group = {"dagster/root_run_id": parent.root_run_id or parent.run_id, "dagster/parent_run_id": parent.run_id} \
        if parent else {}
    result = dg.execute_job(
        dg.reconstructable(failing_job), instance, run_config=IN_PROCESS, raise_on_error=False,
        tags={"dagster/partition": "batch-0001", **group, **(tags or {})}, reexecution_options=options,
    )
    run = instance.get_run_by_id(result.run_id)
    assert run is not None
    return run


def status_context(instance: dg.DagsterInstance, run: dg.DagsterRun, resources: dict, event_type: str):
    record = instance.get_records_for_run(run.run_id, of_type=dg.DagsterEventType(event_type)).records[-1]
    context = dg.build_run_status_sensor_context(
        sensor_name="run_failure_sensor",
        dagster_instance=instance,
        dagster_run=run,
        dagster_event=record.event_log_entry.dagster_event,
        resources=resources,
    )
    return context.for_run_failure() if event_type == "PIPELINE_FAILURE" else context


class _Hook(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Hook.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def hook_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Hook.received.clear()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()


def test_failure_is_recorded_once(tmp_path: Path, small_inbox: Path, instance: dg.DagsterInstance) -> None:
    resources = make_resources(tmp_path / "d", small_inbox)
    context = status_context(instance, run_once(instance), resources, "PIPELINE_FAILURE")
    run_failure_sensor(context)
    run_failure_sensor(context)  # a re-evaluated tick must not duplicate the record
    rows = resources["warehouse"].read_table(RUN_FAILURES)
    assert len(rows) == 1
    row = rows.iloc[0]
    assert row["job_name"] == "failing_job" and row["run_id"] == context.dagster_run.run_id
    assert row["message"] == "RuntimeError: disk on fire" and row["failed_step"] == "explode"


def test_one_notice_per_failed_run_with_cause_and_link(tmp_path: Path, small_inbox: Path, hook_url: str) -> None:
    resources = make_resources(
        tmp_path / "d", small_inbox,
        notifier=NotifierResource(kind="webhook", webhook_url=hook_url, webserver_url="http://ui.example:3000/"),
    )
    warehouse = resources["warehouse"]
    overrides = {"run_retries": {"enabled": True, "max_retries": 1}}
    with dg.instance_for_test(overrides=overrides) as instance:
        first = run_once(instance)
        # run retries are on and this was attempt 0 of 1: the instance marks it for a retry
        assert first.tags.get("dagster/will_retry") == "true"
        warehouse.append_rows(ITEM_FAILURES, failures_frame(
            "document_skills", first.run_id, [ItemFailure("batch-0001", "jobs/a.pdf", "invalid_format", "bad")]
        ))
        run_failure_sensor(status_context(instance, first, resources, "PIPELINE_FAILURE"))
        assert _Hook.received == []  # this attempt will be retried: no notice yet

        second = run_once(instance, parent=first)
        assert second.tags.get("dagster/will_retry") == "false"  # the last attempt
        warehouse.append_rows(ITEM_FAILURES, failures_frame(
            "document_skills", second.run_id, [ItemFailure("batch-0001", "jobs/b.pdf", "invalid_format", "bad")]
        ))
        context = status_context(instance, second, resources, "PIPELINE_FAILURE")
        run_failure_sensor(context)
        run_failure_sensor(context)  # evaluated again: still one notice
        # an operator re-executes the same root and it fails again: still one notice for the run
        third = run_once(instance, parent=second)
        run_failure_sensor(status_context(instance, third, resources, "PIPELINE_FAILURE"))
        assert len(_Hook.received) == 1
        notice = _Hook.received[0]
        assert notice["title"] == "skillatlas run failed: failing_job [batch-0001]"
        assert notice["status"] == "failed" and notice["run_id"] == second.run_id
        assert notice["root_run_id"] == first.run_id and notice["attempts"] == 2
        assert notice["error"] == "RuntimeError: disk on fire" and notice["failed_step"] == "explode"
        assert notice["partition"] == "batch-0001" and notice["failed_items"] == 2
        assert notice["url"] == f"http://ui.example:3000/runs/{second.run_id}"
        assert len(warehouse.read_table(RUN_FAILURES)) == 3  # every attempt is on record

        # a later attempt succeeds: one short "recovered" notice
        fixed = run_once(instance, {"test/outcome": "ok"}, parent=third)
        assert fixed.status == dg.DagsterRunStatus.SUCCESS
        recovered = status_context(instance, fixed, resources, "PIPELINE_SUCCESS")
        run_recovery_sensor(recovered)
        run_recovery_sensor(recovered)
        assert len(_Hook.received) == 2
        assert _Hook.received[1]["status"] == "recovered" and _Hook.received[1]["root_run_id"] == first.run_id
        assert _Hook.received[1]["url"] == f"http://ui.example:3000/runs/{fixed.run_id}"


def test_success_without_failure_sends_nothing(tmp_path: Path, small_inbox: Path, hook_url: str) -> None:
    resources = make_resources(tmp_path / "d", small_inbox, notifier=NotifierResource(kind="webhook",
                                                                                       webhook_url=hook_url))
    with dg.instance_for_test() as instance:
        root = run_once(instance, {"test/outcome": "ok"})
        again = run_once(instance, {"test/outcome": "ok"}, parent=root)
        run_recovery_sensor(status_context(instance, root, resources, "PIPELINE_SUCCESS"))
        run_recovery_sensor(status_context(instance, again, resources, "PIPELINE_SUCCESS"))
    assert _Hook.received == []


def test_old_run_failures_table_gains_new_columns(tmp_path: Path, small_inbox: Path) -> None:
    resources = make_resources(tmp_path / "d", small_inbox)
    old = pd.DataFrame([{"run_id": "x", "job_name": "j", "partition": None, "retry_number": 0, "message": "m",
                         "recorded_at": "2026-01-01T00:00:00+00:00"}])
    resources["warehouse"].append_rows(RUN_FAILURES, old)
    with dg.instance_for_test() as instance:
        run_failure_sensor(status_context(instance, run_once(instance), resources, "PIPELINE_FAILURE"))
    rows = resources["warehouse"].read_table(RUN_FAILURES)
    assert len(rows) == 2 and "failed_step" in rows.columns


def test_misconfigured_notifier_says_what_is_missing() -> None:
    with pytest.raises(ValueError, match="needs webhook_url"):
        NotifierResource(kind="webhook").send("t", {})
    with pytest.raises(ValueError, match="'pager' is not one of log, webhook, slack"):
        NotifierResource(kind="pager").send("t", {})
