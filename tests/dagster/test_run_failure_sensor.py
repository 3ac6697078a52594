"""The run-failure sensor records each failure and sends a notice (log, or a real local webhook)."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import dagster as dg
import pytest

from resources.notifier import NotifierResource
from sensors.run_failures import RUN_FAILURES_TABLE, run_failure_sensor
from tests.conftest import make_resources


@dg.op
def explode() -> None:
    raise RuntimeError("disk on fire")


@dg.job(tags={"skillatlas/queue": "ingest"})
def failing_job() -> None:
    explode()


def failed_run_context(instance: dg.DagsterInstance, resources: dict) -> dg.RunFailureSensorContext:
    result = failing_job.execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    run = instance.get_run_by_id(result.run_id)
    failure = next(e for e in result.all_events if e.event_type_value == "PIPELINE_FAILURE")
    return dg.build_run_status_sensor_context(
        sensor_name="run_failure_sensor",
        dagster_instance=instance,
        dagster_run=run,
        dagster_event=failure,
        resources=resources,
    ).for_run_failure()


def test_failure_is_recorded_once(tmp_path: Path, small_inbox: Path, instance: dg.DagsterInstance) -> None:
    resources = make_resources(tmp_path / "d", small_inbox)
    context = failed_run_context(instance, resources)
    run_failure_sensor(context)
    run_failure_sensor(context)  # a re-evaluated tick must not duplicate the record
    rows = resources["warehouse"].read_table(RUN_FAILURES_TABLE)
    assert len(rows) == 1
    row = rows.iloc[0]
    assert row["job_name"] == "failing_job" and row["run_id"] == context.dagster_run.run_id
    assert "explode" in row["message"]


class _Hook(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Hook.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return


def test_failure_notice_reaches_a_webhook(tmp_path: Path, small_inbox: Path, instance: dg.DagsterInstance) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        resources = make_resources(
            tmp_path / "d", small_inbox, notifier=NotifierResource(kind="webhook", webhook_url=url)
        )
        context = failed_run_context(instance, resources)
        _Hook.received.clear()
        run_failure_sensor(context)
    finally:
        server.shutdown()
    assert len(_Hook.received) == 1
    notice = _Hook.received[0]
    assert notice["title"] == "skillatlas run failed: failing_job"
    assert notice["run_id"] == context.dagster_run.run_id


def test_misconfigured_notifier_says_what_is_missing() -> None:
    with pytest.raises(ValueError, match="needs webhook_url"):
        NotifierResource(kind="webhook").send("t", {})
    with pytest.raises(ValueError, match="'pager' is not one of log, webhook, slack"):
        NotifierResource(kind="pager").send("t", {})
