"""Document steps on Celery workers (dagster-celery, RabbitMQ) with PostgreSQL instance storage and warehouse.

The launching process (this test: it evaluates the inbox sensor and orchestrates the runs, as a run worker of the
daemon would) and the workers share nothing but the broker, the PostgreSQL instance and warehouse, and an inbox
copy at another path (a shared mount seen under another mount point). Each worker runs in its own working
directory with its own SKILLATLAS_DATA_DIR and DAGSTER_HOME, like a worker on another machine.

- test_document_steps_run_on_a_celery_worker: both steps of an ingest run execute in the worker process.
- test_sigkilled_worker_step_is_redone_by_the_other_worker: 2 workers; the one executing `document_skills` is
  SIGKILLed (main process and pool child) mid-step; the broker redelivers the unacknowledged step message (acks_late)
  to the other worker, the run succeeds, every document is in document_text and document_skills exactly once.
"""

from __future__ import annotations

import functools
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa
import yaml

from resources.executor import DEFAULT_BROKER
from tests.conftest import REPO_ROOT, require, sample_files
from tests.faults.helpers import kill_tree, temporary_database, wait_for
from tests.faults.test_postgres_connection_kill import copy_table
from tests.support.celery_jobs import ingest_batch_job
from workers.local import delete_queue, start_worker, stop_worker, wait_ready

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

BROKER = os.environ.get("SKILLATLAS_TEST_CELERY_BROKER", DEFAULT_BROKER)
# One queue for this module's tests, unique per session: no cross-talk with other sessions on the same broker.
# Not one per test: the executor's queue is part of the job definition, and this process loads the code location
# once (reconstructable jobs are cached by code pointer), so a second test would submit to the first one's queue.
QUEUE = f"skillatlas_celery_test_{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module")
def broker() -> Iterator[str]:
    from kombu import Connection

    try:
        with Connection(BROKER, connect_timeout=3) as connection:
            connection.ensure_connection(max_retries=1)
    except Exception as exc:  # noqa: BLE001
        require(False, f"RabbitMQ at {BROKER} is not reachable: {exc}")
    yield BROKER
    delete_queue(BROKER, QUEUE)


@dataclass
class Cluster:
    instance: dg.DagsterInstance
    warehouse_url: str
    queue: str
    files: int
    workers: dict[str, object] = field(default_factory=dict)  # node name -> Popen
    logs: dict[str, Path] = field(default_factory=dict)


def instance_config(storage_url: str) -> dict:
    config = yaml.safe_load((REPO_ROOT / "deploy" / "dagster.postgres.yaml").read_text())
    url = sa.engine.make_url(storage_url).set(drivername="postgresql+psycopg2")
    config["storage"] = {"postgres": {"postgres_url": url.render_as_string(hide_password=False)}}
    return config


@contextmanager
def celery_cluster(
    tmp_path: Path, data_dir: Path, postgres_url: str, broker: str, monkeypatch: pytest.MonkeyPatch,
    *, courses: int, jobs: int, workers: int, semantic: bool,
) -> Iterator[Cluster]:
    queue = QUEUE
    with ExitStack() as stack:
        storage_url = stack.enter_context(temporary_database(postgres_url, "skillatlas_celery_dg"))
        warehouse_url = stack.enter_context(temporary_database(postgres_url, "skillatlas_celery_wh"))
        home = tmp_path / "launcher_home"
        home.mkdir()
        (home / "dagster.yaml").write_text(yaml.safe_dump(instance_config(storage_url)))
        copy_table(f"sqlite:///{data_dir / 'warehouse.sqlite'}", warehouse_url, "skill_taxonomy")
        inbox = tmp_path / "inbox"
        for kind, count in (("courses", courses), ("jobs", jobs)):
            (inbox / kind).mkdir(parents=True)
            for f in sample_files(kind, count):
                shutil.copy2(f, inbox / kind / f.name)
        common = {
            "SKILLATLAS_ENV": "production",
            "SKILLATLAS_WAREHOUSE_URL": warehouse_url,
            "SKILLATLAS_EXTRACTOR": "offline",
            "SKILLATLAS_SEMANTIC": "1" if semantic else "0",
            "SKILLATLAS_INBOX_QUIET_SECONDS": "0",  # the inbox was written just now: register at the first tick
            "SKILLATLAS_EXECUTOR": "celery",
            "SKILLATLAS_CELERY_BROKER": broker,
            "SKILLATLAS_CELERY_BACKEND": "rpc://",
            "SKILLATLAS_CELERY_QUEUE": queue,
        }
        # the launcher: this process
        for key, value in {**common, "DAGSTER_HOME": str(home), "SKILLATLAS_DATA_DIR": str(data_dir),
                           "SKILLATLAS_INBOX": str(inbox)}.items():
            monkeypatch.setenv(key, value)
        instance = stack.enter_context(dg.DagsterInstance.from_config(str(home)))
        cluster = Cluster(instance, warehouse_url, queue, courses + jobs)
        for n in range(1, workers + 1):
            # another machine: own working directory, data dir (artefacts copied as to a shared disk), inbox
            # mount point and DAGSTER_HOME; the code at the same path (the step's origin names it)
            machine = tmp_path / f"worker{n}"
            (machine / "cwd").mkdir(parents=True)
            shutil.copytree(data_dir / "artifacts", machine / "data" / "artifacts")
            shutil.copytree(inbox, machine / "mnt" / "inbox")
            (machine / "home").mkdir()
            env = {
                **{k: v for k, v in os.environ.items() if not k.startswith(("SKILLATLAS_", "DAGSTER_"))},
                **common,
                "DAGSTER_HOME": str(machine / "home"),
                "SKILLATLAS_DATA_DIR": str(machine / "data"),
                "SKILLATLAS_INBOX": str(machine / "mnt" / "inbox"),
            }
            name = f"w{n}-{queue}@{os.uname().nodename}"
            log = machine / "worker.log"
            process = start_worker(queue, name, env, machine / "cwd", log)
            stack.callback(stop_worker, process)
            cluster.workers[name], cluster.logs[name] = process, log
        for name, process in cluster.workers.items():
            wait_ready(cluster.logs[name], process)  # type: ignore[arg-type]
        yield cluster


@pytest.fixture
def start_cluster(
    tmp_path: Path, data_dir: Path, postgres_url: str, broker: str, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., AbstractContextManager[Cluster]]:
    """:func:`celery_cluster` in this test's folder, with its data dir, PostgreSQL server, broker and environment:
    the test gives the documents and workers (``courses=, jobs=, workers=, semantic=``)."""
    return functools.partial(celery_cluster, tmp_path, data_dir, postgres_url, broker, monkeypatch)


def sensor_run_requests(instance: dg.DagsterInstance) -> list[dg.RunRequest]:
    """One evaluation of the inbox sensor, as the daemon would do it: batches registered, partitions added."""
    from definitions import build_definitions

    defs = build_definitions()
    sensor = defs.resolve_sensor_def("inbox_sensor")
    with dg.build_sensor_context(instance=instance, resources=defs.resources, definitions=defs) as context:
        result = sensor(context)
    assert isinstance(result, dg.SensorResult), result
    for request in result.dynamic_partitions_requests or []:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys or []))
    return list(result.run_requests or [])


def run_tags(request: dg.RunRequest) -> dict[str, str]:
    tags = dict(request.tags)
    if request.partition_key:
        tags["dagster/partition"] = request.partition_key
    return tags


def worker_steps(instance: dg.DagsterInstance, run_id: str) -> list[tuple[str, str]]:
    """(step key, Celery worker node) of every step execution the workers reported ("Executing steps ... in
    celery worker" engine events, whose metadata names the worker), in order."""
    out = []
    for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT):
        event = record.dagster_event
        metadata = getattr(event.event_specific_data, "metadata", None) or {} if event is not None else {}
        if "Celery worker" in metadata:
            out.append((str(record.step_key), str(metadata["Celery worker"].value)))
    return out


def step_events(instance: dg.DagsterInstance, run_id: str, step_key: str, kind: dg.DagsterEventType) -> list:
    return [r for r in instance.all_logs(run_id, of_type=kind) if r.step_key == step_key]


def warehouse_counts(url: str) -> dict[str, int]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        text_rows, text_docs = conn.execute(sa.text("SELECT count(*), count(DISTINCT doc_id) FROM document_text")).one()
        skill_docs = conn.execute(sa.text("SELECT count(DISTINCT doc_id) FROM document_skills")).scalar_one()
        skill_dupes = conn.execute(sa.text(
            "SELECT count(*) FROM (SELECT doc_id, skill_id FROM document_skills GROUP BY doc_id, skill_id "
            "HAVING count(*) > 1) d")).scalar_one()
        manifest = conn.execute(sa.text("SELECT count(*) FROM upload_manifest")).scalar_one()
        ledger = conn.execute(sa.text("SELECT count(*) FROM item_failures")).scalar_one()
    engine.dispose()
    return {"text_rows": text_rows, "text_docs": text_docs, "skill_docs": skill_docs, "skill_dupes": skill_dupes,
            "manifest": manifest, "ledger": ledger}


def test_document_steps_run_on_a_celery_worker(
    start_cluster: Callable[..., AbstractContextManager[Cluster]],
) -> None:
    started = time.perf_counter()
    with start_cluster(courses=3, jobs=5, workers=1, semantic=False) as cluster:
        requests = sensor_run_requests(cluster.instance)
        assert requests
        (node,) = cluster.workers
        for request in requests:
            with dg.execute_job(dg.reconstructable(ingest_batch_job), cluster.instance,
                                tags=run_tags(request)) as result:
                assert result.success, cluster.logs[node].read_text()[-3000:]
                run_id = result.run_id
            executed = worker_steps(cluster.instance, run_id)
            # the asset steps and their checks' steps, all executed by the worker
            assert {"document_text", "document_skills"} <= {step for step, _ in executed}, executed
            assert {n for _, n in executed} == {node}, executed
            # the steps' own events come from the worker's pool process, not from this one
            for step in ("document_text", "document_skills"):
                (start,) = step_events(cluster.instance, run_id, step, dg.DagsterEventType.STEP_START)
                assert start.dagster_event.pid != os.getpid()
        counts = warehouse_counts(cluster.warehouse_url)
    assert counts["manifest"] == counts["text_rows"] == counts["text_docs"] == cluster.files
    assert counts["skill_docs"] == cluster.files and counts["skill_dupes"] == 0 and counts["ledger"] == 0
    print(f"\n{len(requests)} run(s) on worker {node}: {counts}; {time.perf_counter() - started:.1f} s")


def test_sigkilled_worker_step_is_redone_by_the_other_worker(
    start_cluster: Callable[..., AbstractContextManager[Cluster]],
) -> None:
    started = time.perf_counter()
    # semantic extraction (MiniLM, ~0.3-0.5 s a document here) makes the step long enough to be killed midway
    with start_cluster(courses=6, jobs=14, workers=2, semantic=True) as cluster:
        (request,) = sensor_run_requests(cluster.instance)
        killed: dict[str, object] = {}

        def kill_mid_step() -> None:
            """Wait for `document_skills` to start on a worker, let it work a moment, SIGKILL that worker."""
            def started_on() -> tuple[str, str] | None:
                runs = cluster.instance.get_runs(dg.RunsFilter(job_name="ingest_batch_job"))
                if not runs:
                    return None
                run_id = runs[0].run_id
                on = [n for s, n in worker_steps(cluster.instance, run_id) if s == "document_skills"]
                if on and step_events(cluster.instance, run_id, "document_skills", dg.DagsterEventType.STEP_START):
                    return run_id, on[0]
                return None

            try:
                run_id, node = wait_for(started_on, 180, 0.2, what="document_skills to start on a worker")
                time.sleep(2.0)
                done = step_events(cluster.instance, run_id, "document_skills", dg.DagsterEventType.STEP_SUCCESS)
                killed.update(node=node, pids=kill_tree(cluster.workers[node].pid),  # type: ignore[attr-defined]
                              finished_before_kill=bool(done), at=time.perf_counter() - started)
            except Exception as exc:  # noqa: BLE001 - reported by the main thread
                killed["error"] = exc

        killer = threading.Thread(target=kill_mid_step, daemon=True)
        killer.start()
        with dg.execute_job(dg.reconstructable(ingest_batch_job), cluster.instance,
                            tags=run_tags(request)) as result:
            success, run_id = result.success, result.run_id
        killer.join(timeout=30)
        assert "error" not in killed, killed.get("error")
        assert killed and not killed["finished_before_kill"], "the step finished before the kill: nothing tested"
        logs = "\n".join(p.read_text(errors="replace")[-2000:] for p in cluster.logs.values())
        assert success, logs
        executed = [(s, n) for s, n in worker_steps(cluster.instance, run_id) if s == "document_skills"]
        survivor = next(n for n in cluster.workers if n != killed["node"])
        # delivered to the killed worker, then redelivered by the broker to the other one
        assert executed == [("document_skills", killed["node"]), ("document_skills", survivor)], executed
        starts = step_events(cluster.instance, run_id, "document_skills", dg.DagsterEventType.STEP_START)
        successes = step_events(cluster.instance, run_id, "document_skills", dg.DagsterEventType.STEP_SUCCESS)
        failures = step_events(cluster.instance, run_id, "document_skills", dg.DagsterEventType.STEP_FAILURE)
        counts = warehouse_counts(cluster.warehouse_url)
    assert counts["manifest"] == counts["text_rows"] == counts["text_docs"] == cluster.files
    assert counts["skill_docs"] == cluster.files and counts["skill_dupes"] == 0 and counts["ledger"] == 0
    print(
        f"\nkilled {killed['node']} (pids {killed['pids']}) {killed['at']:.1f} s in, mid document_skills; redone on "
        f"{survivor}; document_skills STEP_START x{len(starts)}, STEP_SUCCESS x{len(successes)}, "
        f"STEP_FAILURE x{len(failures)}; warehouse {counts}; total {time.perf_counter() - started:.1f} s"
    )
