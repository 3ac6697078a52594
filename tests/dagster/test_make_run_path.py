"""`make run`'s runs go through the instance for the workspace's code location (daemon + queue), so they have
an origin, are listed under their job, and can be retried: unlike `execute_in_process` runs."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import pytest

from definitions import build_definitions
from jobs.launcher import Daemon, launch, wait_for_runs
from jobs.pipeline_run import print_event, register_inbox
from tests.conftest import REPO_ROOT, make_resources


@pytest.mark.slow
def test_make_run_launches_runs_with_an_origin_visible_under_their_job(
    tmp_path: Path, small_inbox: Path, reference_state: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(REPO_ROOT / "deploy" / "dagster.yaml", home / "dagster.yaml")
    data_dir = tmp_path / "data"
    shutil.copytree(reference_state, data_dir)
    for name, value in {
        "DAGSTER_HOME": str(home), "SKILLATLAS_DATA_DIR": str(data_dir), "SKILLATLAS_INBOX": str(small_inbox),
        "SKILLATLAS_SEMANTIC": "0",
    }.items():
        monkeypatch.setenv(name, value)
    defs = build_definitions(make_resources(data_dir, small_inbox))
    with dg.DagsterInstance.from_config(str(home)) as instance:
        (request,) = register_inbox(defs, instance)
        with Daemon(home / "logs" / "daemon.log"):
            run_id = launch("ingest_batch_job", {**request.tags, "dagster/partition": str(request.partition_key)})
            runs = wait_for_runs(instance, [run_id], on_event=print_event)
        run = runs[run_id]
        assert run.status == dg.DagsterRunStatus.SUCCESS, (home / "logs" / "daemon.log").read_text()[-3000:]
        assert run.remote_job_origin is not None  # job pages, timeline, run retries and failure sensors see it
        assert run.remote_job_origin.location_name == "skillatlas"
        listed = instance.get_runs(dg.RunsFilter(job_name="ingest_batch_job"))
        assert [r.run_id for r in listed] == [run_id]
    console = capsys.readouterr().out
    assert f"batch {request.partition_key}: 10/10 documents, 0 failed" in console  # progress, not silence
    assert "document_skills materialised (processed 10" in console
