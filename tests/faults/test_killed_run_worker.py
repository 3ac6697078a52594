"""Fault test: the run worker of an ingest run is SIGKILLed mid-batch, under a real daemon.

A temporary DAGSTER_HOME with run/event storage on a fresh PostgreSQL database (deploy/dagster.postgres.yaml
pattern, fast run monitoring, run retries on) and a fresh PostgreSQL warehouse. `dagster-daemon run` ticks the
inbox sensor, which registers a 30-document inbox and queues one ingest run; when its document_text step is under
way the run worker and its step processes are killed with SIGKILL.

Detection: the DefaultRunLauncher does not support `check_run_worker_health` (run_monitoring.py only resumes /
fails dead workers for launchers that do); with this launcher the code server that spawned the worker notices
the dead process (`_check_for_orphaned_runs`, every 0.5 s) and reports the run FAILURE. The failure reason is
not a step failure, so run retries (retry_on_asset_or_op_failure: false) launch a retry run
(dagster/retry_number=1), which must complete the batch with exact row counts.
"""

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa
import yaml

from tests.conftest import REPO_ROOT, sample_files
from tests.faults.helpers import alive, kill_tree, stop_process_group, temporary_database, wait_for
from tests.faults.test_postgres_connection_kill import copy_table

pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgres,
]

TIMEOUT_S = 150


def instance_yaml(storage_url: str) -> dict:
    config = yaml.safe_load((REPO_ROOT / "deploy" / "dagster.postgres.yaml").read_text())
    # dagster-postgres stores events with `NOTIFY run_events, %(id)s`, which psycopg 3 cannot bind
    # (SyntaxError at "$1"): the instance storage must use psycopg2, as deploy/dagster.postgres.yaml does.
    url = sa.engine.make_url(storage_url).set(drivername="postgresql+psycopg2")
    config["storage"] = {"postgres": {"postgres_url": url.render_as_string(hide_password=False)}}
    config["run_monitoring"].update({"poll_interval_seconds": 5, "start_timeout_seconds": 60})
    config["run_retries"].update({"enabled": True, "max_retries": 2})
    return config


def test_killed_run_worker_is_failed_and_retried_to_exact_counts(
    tmp_path: Path, data_dir: Path, postgres_url: str
) -> None:
    started = time.perf_counter()
    with temporary_database(postgres_url, "skillatlas_fault_dg") as storage_url, temporary_database(
        postgres_url, "skillatlas_fault_wh"
    ) as warehouse_url:
        home = tmp_path / "dagster_home"
        home.mkdir()
        (home / "dagster.yaml").write_text(yaml.safe_dump(instance_yaml(storage_url)))
        copy_table(f"sqlite:///{data_dir / 'warehouse.sqlite'}", warehouse_url, "skill_taxonomy")
        # a small inbox: the daemon extracts with the production (semantic, MiniLM) extractor, ~0.5 s a document
        inbox = tmp_path / "inbox"
        for kind, count in (("courses", 10), ("jobs", 20)):
            (inbox / kind).mkdir(parents=True)
            for f in sample_files(kind, count):
                shutil.copy2(f, inbox / kind / f.name)
        good_files = 30
        env = {
            **os.environ,
            "DAGSTER_HOME": str(home),
            "SKILLATLAS_DATA_DIR": str(data_dir),
            "SKILLATLAS_INBOX": str(inbox),
            "SKILLATLAS_INBOX_QUIET_SECONDS": "0",  # the inbox was written just now: register at the first tick
            "SKILLATLAS_WAREHOUSE_URL": warehouse_url,
            "SKILLATLAS_EXTRACTOR": "offline",
            # phrase matching only: this test is about the kill and the retry, and the model would make the
            # retry CPU-bound for minutes on a 2-core machine
            "SKILLATLAS_SEMANTIC": "0",
        }
        log = open(tmp_path / "daemon.log", "wb")  # noqa: SIM115 - closed in finally
        daemon = subprocess.Popen(
            [str(Path(sys.executable).parent / "dagster-daemon"), "run", "-w", "workspace.yaml"],
            cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        try:
            with dg.DagsterInstance.from_config(str(home)) as instance:
                def ingest_runs() -> list[dg.DagsterRun]:
                    return list(instance.get_runs(dg.RunsFilter(job_name="ingest_batch_job")))

                def worker_pid() -> int | None:
                    runs = ingest_runs()
                    if not runs:
                        return None
                    run = runs[-1]
                    records = instance.all_logs(run.run_id)
                    pid = None
                    step_started = False
                    for record in records:
                        match = re.search(r"Started process for run \(pid: (\d+)\)", record.message or "")
                        if match:
                            pid = int(match.group(1))
                        if record.dagster_event is not None and record.dagster_event.event_type_value == "STEP_START":
                            step_started = True
                    return pid if pid and step_started else None

                pid = wait_for(worker_pid, TIMEOUT_S, what="the ingest run's first step")
                (original,) = ingest_runs()
                time.sleep(1)  # mid-batch: the first step is under way
                victims = kill_tree(pid)
                wait_for(lambda: not alive(pid), 10, 0.1, what="the killed worker to exit")

                def status(run_id: str) -> dg.DagsterRunStatus:
                    return instance.get_run_by_id(run_id).status

                wait_for(lambda: status(original.run_id) == dg.DagsterRunStatus.FAILURE, 60,
                         what="the killed run to be marked FAILURE")
                detected_after = time.perf_counter()

                def retry_run() -> dg.DagsterRun | None:
                    children = [r for r in ingest_runs() if r.tags.get("dagster/parent_run_id") == original.run_id]
                    return children[0] if children else None

                retry = wait_for(retry_run, 60, what="the automatic retry run")
                assert retry.tags.get("dagster/retry_number") == "1"
                final = wait_for(
                    lambda: status(retry.run_id) if status(retry.run_id) in (
                        dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED
                    ) else None,
                    TIMEOUT_S, what="the retry run to finish",
                )
                assert final == dg.DagsterRunStatus.SUCCESS, (tmp_path / "daemon.log").read_text()[-3000:]
        finally:
            stop_process_group(daemon, timeout=20)  # the code server runs in its own process group
            log.close()

        engine = sa.create_engine(warehouse_url)
        with engine.connect() as conn:
            text_rows, distinct_docs = conn.execute(
                sa.text("SELECT count(*), count(DISTINCT doc_id) FROM document_text")
            ).one()
            manifest_rows = conn.execute(sa.text("SELECT count(*) FROM upload_manifest")).scalar_one()
            skill_dupes = conn.execute(
                sa.text("SELECT count(*) FROM (SELECT doc_id, skill_id FROM document_skills "
                        "GROUP BY doc_id, skill_id HAVING count(*) > 1) d")
            ).scalar_one()
            ledger = conn.execute(sa.text("SELECT count(*) FROM item_failures")).scalar_one()
        engine.dispose()
        assert manifest_rows == good_files
        assert text_rows == distinct_docs == good_files and ledger == 0 and skill_dupes == 0
        shutil.rmtree(home, ignore_errors=True)
    print(
        f"\nkilled pids {victims}; run {original.run_id[:8]} marked FAILURE, retry {retry.run_id[:8]} "
        f"(retry_number 1) SUCCESS; document_text rows {text_rows} == {good_files} files, no duplicates; "
        f"detection at {detected_after - started:.1f} s; total {time.perf_counter() - started:.1f} s"
    )
