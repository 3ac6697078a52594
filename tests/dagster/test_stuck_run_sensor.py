"""The stuck-run sensor cancels a silent document run (any trigger) and leaves progressing or waiting ones."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import dagster as dg
import pytest

from resources.notifier import NotifierResource
from sensors import stuck_runs
from tests.conftest import make_resources

SENT: list[tuple[str, dict[str, object]]] = []


class RecordingNotifier(NotifierResource):
    def send(self, title: str, payload: dict[str, object], log: object = None) -> None:
        SENT.append((title, payload))


RELEASE = threading.Event()
STARTED = threading.Event()


@dg.op
def silent_step() -> None:
    STARTED.set()
    RELEASE.wait(timeout=60)  # a step that logs nothing: a hung parser, a dead connection


@dg.job(name="ingest_batch_job")
def hung_ingest() -> None:
    silent_step()


@dg.op
def quiet_other_step() -> None:
    STARTED.set()
    RELEASE.wait(timeout=60)


@dg.job(name="rebuild_scores_job")
def hung_scores() -> None:
    quiet_other_step()


def run_in_background(job: dg.JobDefinition, instance: dg.DagsterInstance) -> threading.Thread:
    STARTED.clear()
    RELEASE.clear()
    thread = threading.Thread(target=lambda: job.execute_in_process(instance=instance, raise_on_error=False))
    thread.start()
    assert STARTED.wait(timeout=60)
    return thread


def test_a_silent_document_run_is_cancelled_and_recorded(
    tmp_path: Path, small_inbox: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    SENT.clear()
    resources = make_resources(tmp_path / "data", small_inbox, notifier=RecordingNotifier(kind="log"))
    monkeypatch.setenv("SKILLATLAS_STUCK_MINUTES", "0.02")  # 1.2 s without an event
    with dg.instance_for_test() as instance:
        cancelled: list[str] = []
        monkeypatch.setattr(type(instance.run_coordinator), "cancel_run", lambda self, run_id: cancelled.append(run_id))
        thread = run_in_background(hung_ingest, instance)
        try:
            time.sleep(2.0)
            with dg.build_sensor_context(instance=instance, resources=resources) as context:
                result = stuck_runs.stuck_run_sensor(context)
        finally:
            RELEASE.set()
            thread.join()
        (run,) = instance.get_runs(dg.RunsFilter(job_name="ingest_batch_job"))
        assert cancelled == [run.run_id]
        assert "1 stuck document run(s) cancelled" in result.skip_message
        assert instance.get_run_by_id(run.run_id).tags[stuck_runs.STUCK_TAG]
        failures = resources["warehouse"].read_table(stuck_runs.RUN_FAILURES)
        assert failures["run_id"].tolist() == [run.run_id]
        assert failures["message"].iloc[0].startswith("stuck: no progress for")
        (notice,) = SENT  # one notice: a cancelled run gets no run-failure notice otherwise
        assert notice[0] == "skillatlas run stuck and cancelled: ingest_batch_job"
        assert notice[1]["run_id"] == run.run_id and run.run_id in notice[1]["run_url"]


def test_healthy_and_non_document_runs_are_left_alone(
    tmp_path: Path, small_inbox: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SKILLATLAS_STUCK_MINUTES", "0.02")
    with dg.instance_for_test() as instance:
        thread = run_in_background(hung_scores, instance)  # silent, but not a document run
        try:
            time.sleep(2.0)
            assert stuck_runs.find_stuck_runs(instance, 0.02, time.time()) == []
        finally:
            RELEASE.set()
            thread.join()
        thread = run_in_background(hung_ingest, instance)  # a document run, but it just logged
        try:
            assert stuck_runs.find_stuck_runs(instance, 1.0, time.time()) == []
        finally:
            RELEASE.set()
            thread.join()


def test_a_bad_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SKILLATLAS_STUCK_MINUTES", "-3")
    with pytest.raises(ValueError, match="must be positive"):
        stuck_runs.stuck_minutes()
    monkeypatch.setenv("SKILLATLAS_STUCK_MINUTES", "soon")
    with pytest.raises(ValueError, match="not a number"):
        stuck_runs.stuck_minutes()
