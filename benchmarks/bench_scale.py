"""Scale benchmark: N generated documents through the inbox sensor, per-batch runs and Celery workers on PostgreSQL.

For each worker count (default 1 and 2): fresh PostgreSQL databases for the instance and the warehouse
(`skillatlas_celery_bench_*`, dropped afterwards), a real `dagster-daemon` (the inbox sensor registers the
batches and requests the ingest runs; the run queue launches them; each run worker submits its steps to
RabbitMQ) and that many `celery worker` processes (concurrency 1 each, own working directory). Prints one JSON
line: documents/s per worker count and their ratio, orchestration overhead as a % of extraction time per batch,
peak RSS per process role, and the exactly-once counts.

The documents are plain-text syllabi and job postings recombined from the sample corpus (its sentences, its
length distribution per kind) and O*NET task statements, each unique. Needs PostgreSQL (127.0.0.1:5432, user
postgres) and RabbitMQ (127.0.0.1:5672).

    python benchmarks/bench_scale.py                        # 10,000 documents, workers 1 and 2, semantic on
    python benchmarks/bench_scale.py --docs 1000 --semantic 0 --workers 1,2
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import warnings
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import dagster as dg  # noqa: E402
import pandas as pd  # noqa: E402
import sqlalchemy as sa  # noqa: E402
import yaml  # noqa: E402

from resources.executor import DEFAULT_BROKER  # noqa: E402
from tests.faults.helpers import stop_process_group  # noqa: E402
from workers.local import delete_queue, start_worker, stop_worker, wait_ready  # noqa: E402

warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.PreviewWarning)

SAMPLE_INBOX = ROOT / "data" / "sample_inbox"
TERMINAL = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}
ASSET_STEPS = ("document_text", "document_skills")


# ---------------------------------------------------------------------------------------------- corpus


def sentence_pools() -> dict[str, dict[str, list]]:
    """Sentences and text lengths of the sample corpus per kind (courses, jobs), parsed from every format."""
    from skillatlas.ingest.parsing import parse_document

    pools: dict[str, dict[str, list]] = {}
    for kind in ("courses", "jobs"):
        sentences: list[str] = []
        lengths: list[int] = []
        for path in sorted((SAMPLE_INBOX / kind).iterdir()):
            text = parse_document(path).text
            lengths.append(len(text))
            for line in text.splitlines():
                for sentence in re.split(r"(?<=[.!?])\s+", line.strip()):
                    if 30 <= len(sentence) <= 400:
                        sentences.append(sentence)
        pools[kind] = {"sentences": sentences, "lengths": lengths}
    return pools


def generate_corpus(n: int, inbox: Path, seed: int = 7) -> dict[str, float]:
    """`n` unique .txt documents (20% syllabi, 80% job postings) with the sample corpus's length distribution:
    its sentences recombined with O*NET task statements of one occupation per document."""
    rng = random.Random(seed)
    pools = sentence_pools()
    occupations = pd.read_parquet(ROOT / "data" / "reference" / "onet_occupations.parquet")
    tasks = pd.read_parquet(ROOT / "data" / "reference" / "onet_tasks.parquet")
    tasks_by_soc = tasks.groupby("soc_code")["task"].apply(list).to_dict()
    socs = [s for s in occupations["soc_code"] if s in tasks_by_soc]
    titles = dict(zip(occupations["soc_code"], occupations["title"], strict=True))
    total_chars = 0
    for kind in ("courses", "jobs"):
        (inbox / kind).mkdir(parents=True, exist_ok=True)
    for i in range(n):
        kind = "courses" if i % 5 == 0 else "jobs"
        soc = rng.choice(socs)
        target = rng.choice(pools[kind]["lengths"])
        title = f"{titles[soc]} ({'course' if kind == 'courses' else 'posting'} {i:06d})"
        posted = date(2026, 9, 1) + timedelta(days=rng.randrange(90))
        parts = [title, "=" * len(title), "", f"Posted: {posted.isoformat()}" if kind == "jobs" else "", ""]
        size = sum(len(p) + 1 for p in parts)
        heading = 0
        while size < target:
            if heading % 6 == 0:
                section = rng.choice(["Responsibilities", "Requirements", "Overview", "Learning outcomes", "Topics"])
                parts += ["", section, "-" * len(section)]
            heading += 1
            source = tasks_by_soc[soc] if rng.random() < 0.35 else pools[kind]["sentences"]
            sentence = rng.choice(source)
            parts.append(f"- {sentence}" if rng.random() < 0.5 else sentence)
            size += len(sentence) + 3
        text = "\n".join(parts) + "\n"
        total_chars += len(text)
        (inbox / kind / f"gen-{i:06d}.txt").write_text(text, encoding="utf-8")
    return {"documents": n, "mean_chars": round(total_chars / max(1, n))}


# ------------------------------------------------------------------------------------ services


def admin_engine(base_url: str) -> sa.Engine:
    return sa.create_engine(base_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)


@contextmanager
def temporary_database(base_url: str, prefix: str) -> Iterator[str]:
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    engine = admin_engine(base_url)
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.engine.make_url(base_url).set(database=name).render_as_string(hide_password=False)
    finally:
        from resources.warehouse import dispose_engines

        dispose_engines()
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :d "
                                 "AND pid <> pg_backend_pid()"), {"d": name})
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        engine.dispose()


def reference_state(data_dir: Path) -> Path:
    """skill_taxonomy in a SQLite warehouse and the taxonomy vectors in data_dir/artifacts (built once)."""
    from assets import reference
    from resources.artifacts import ArtifactStore
    from resources.warehouse import WarehouseIOManager, WarehouseResource

    data_dir.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{data_dir / 'reference.sqlite'}"
    result = dg.materialize(
        [reference.skill_taxonomy, reference.taxonomy_vectors],
        resources={"io_manager": WarehouseIOManager(url=url), "warehouse": WarehouseResource(url=url),
                   "artifacts": ArtifactStore(root=str(data_dir / "artifacts"))},
    )
    assert result.success
    return data_dir / "reference.sqlite"


def copy_taxonomy(sqlite_path: Path, target_url: str) -> None:
    src, dst = sa.create_engine(f"sqlite:///{sqlite_path}"), sa.create_engine(target_url)
    frame = pd.read_sql_table("skill_taxonomy", src)
    with dst.begin() as conn:
        frame.to_sql("skill_taxonomy", conn, index=False, chunksize=5000, method="multi")
    src.dispose()
    dst.dispose()


def instance_config(storage_url: str, concurrent_runs: int, workers: int) -> dict:
    config = yaml.safe_load((ROOT / "deploy" / "dagster.postgres.yaml").read_text())
    url = sa.engine.make_url(storage_url).set(drivername="postgresql+psycopg2")
    config["storage"] = {"postgres": {"postgres_url": url.render_as_string(hide_password=False)}}
    runs = config["concurrency"]["runs"]
    runs["max_concurrent_runs"] = concurrent_runs
    for limit in runs["tag_concurrency_limits"]:
        if limit.get("value") in ("ingest", "extraction"):
            limit["limit"] = concurrent_runs
    # offline extraction calls no LLM: if this code still puts it in the `openai` pool, let every worker work
    config["concurrency"]["pools"]["default_limit"] = max(workers, config["concurrency"]["pools"]["default_limit"])
    return config


# ------------------------------------------------------------------------------------ processes


def descendants(pid: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents.setdefault(ppid, []).append(int(entry.name))
    out, stack = [], [pid]
    while stack:
        for child in parents.get(stack.pop(), []):
            out.append(child)
            stack.append(child)
    return out


def peak_rss_mb(pid: int) -> float | None:
    """VmHWM: the process's peak resident set so far."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def role_of(pid: int, worker_mains: set[int]) -> str:
    if pid in worker_mains:
        return "celery_worker_main"
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "gone"
    if "celery" in cmd:
        return "celery_worker_pool_process"
    if "execute_run" in cmd or "execute-run" in cmd:
        return "run_worker"
    if "grpc" in cmd:
        return "code_server"
    if "dagster-daemon" in cmd or "dagster_daemon" in cmd:
        return "daemon"
    return "other"


class RssSampler:
    """Peak RSS (VmHWM) per process, sampled every 0.5 s over the daemon's and the workers' process trees."""

    def __init__(self, roots: list[int], worker_mains: set[int]) -> None:
        self.roots, self.worker_mains = roots, worker_mains
        self.peaks: dict[int, tuple[str, float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(0.5)

    def sample(self) -> None:
        for root in self.roots:
            for pid in [root, *descendants(root)]:
                peak = peak_rss_mb(pid)
                if peak is None:
                    continue
                # the role is looked up at every sample: a process caught between fork and exec shows its
                # parent's command line, or none, until it has exec'd
                role = role_of(pid, self.worker_mains)
                known_role, known_peak = self.peaks.get(pid, ("other", 0.0))
                if role in ("other", "gone"):
                    role = known_role
                self.peaks[pid] = (role, max(peak, known_peak))

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def by_role(self) -> dict[str, dict[str, float]]:
        roles: dict[str, list[float]] = {}
        for role, peak in self.peaks.values():
            roles.setdefault(role, []).append(peak)
        return {r: {"processes": len(v), "max_peak_rss_mb": round(max(v), 1), "median_peak_rss_mb":
                    round(statistics.median(v), 1)} for r, v in sorted(roles.items())}


def stop_daemon(process: subprocess.Popen[bytes]) -> None:
    stop_process_group(process, timeout=30)  # the code server and run workers may sit in other process groups


# ------------------------------------------------------------------------------------ one configuration


def run_records(instance: dg.DagsterInstance) -> list:
    return list(instance.get_run_records(dg.RunsFilter(job_name="ingest_batch_job")))


def partitions_of(run: dg.DagsterRun, batch_ids: list[str]) -> int:
    if run.tags.get("dagster/partition"):
        return 1
    first, last = run.tags.get("dagster/asset_partition_range_start"), run.tags.get("dagster/asset_partition_range_end")
    if first and last and first in batch_ids and last in batch_ids:
        return batch_ids.index(last) - batch_ids.index(first) + 1
    return 0


def step_seconds(instance: dg.DagsterInstance, run_id: str) -> dict[str, float]:
    """Compute time of each asset step of a run (last STEP_START to its STEP_SUCCESS; a redelivered step's
    first attempt is not counted)."""
    starts: dict[str, float] = {}
    out: dict[str, float] = {}
    for record in instance.all_logs(run_id, of_type={dg.DagsterEventType.STEP_START,
                                                      dg.DagsterEventType.STEP_SUCCESS}):
        key = record.step_key or ""
        if record.dagster_event_type == dg.DagsterEventType.STEP_START:
            starts[key] = record.timestamp
        elif key in starts:
            out[key] = record.timestamp - starts[key]
    return out


def warehouse_counts(url: str) -> dict[str, int]:
    engine = sa.create_engine(url)
    q = {
        "manifest_rows": "SELECT count(*) FROM upload_manifest",
        "manifest_docs": "SELECT count(DISTINCT doc_id) FROM upload_manifest",
        "text_rows": "SELECT count(*) FROM document_text",
        "text_docs": "SELECT count(DISTINCT doc_id) FROM document_text",
        "skill_docs": "SELECT count(DISTINCT doc_id) FROM document_skills",
        "skill_rows": "SELECT count(*) FROM document_skills",
        "skill_duplicate_pairs": "SELECT count(*) FROM (SELECT doc_id, skill_id FROM document_skills "
                                 "GROUP BY doc_id, skill_id HAVING count(*) > 1) d",
        "failed_items": "SELECT count(*) FROM item_failures",
    }
    out = {}
    with engine.connect() as conn:
        for name, sql in q.items():
            try:
                out[name] = int(conn.execute(sa.text(sql)).scalar_one())
            except sa.exc.ProgrammingError:
                conn.rollback()
                out[name] = 0  # table never created (nothing failed)
    engine.dispose()
    return out


def run_configuration(args: argparse.Namespace, workers: int, inbox: Path, data_dir: Path, ref: Path,
                      work: Path) -> dict[str, object]:
    queue = f"skillatlas_celery_bench_{uuid.uuid4().hex[:10]}"
    concurrent_runs = args.concurrent_runs or 2 * workers
    with ExitStack() as stack:
        storage_url = stack.enter_context(temporary_database(args.pg_url, "skillatlas_celery_bench_dg"))
        warehouse_url = stack.enter_context(temporary_database(args.pg_url, "skillatlas_celery_bench_wh"))
        copy_taxonomy(ref, warehouse_url)
        home = work / f"home_w{workers}"
        home.mkdir()
        (home / "dagster.yaml").write_text(yaml.safe_dump(instance_config(storage_url, concurrent_runs, workers)))
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SKILLATLAS_", "DAGSTER_HOME"))},
            "PYTHONPATH": str(ROOT),
            "DAGSTER_HOME": str(home),
            "SKILLATLAS_ENV": "production",
            "SKILLATLAS_WAREHOUSE_URL": warehouse_url,
            "SKILLATLAS_DATA_DIR": str(data_dir),
            "SKILLATLAS_INBOX": str(inbox),
            "SKILLATLAS_BATCH_SIZE": str(args.batch_size),
            "SKILLATLAS_EXTRACTOR": "offline",
            "SKILLATLAS_SEMANTIC": "1" if args.semantic else "0",
            "SKILLATLAS_INBOX_QUIET_SECONDS": "0",  # the documents were generated just now: register at once
            "SKILLATLAS_EXECUTOR": "celery",
            "SKILLATLAS_CELERY_BROKER": args.broker,
            "SKILLATLAS_CELERY_BACKEND": "rpc://",
            "SKILLATLAS_CELERY_QUEUE": queue,
        }
        stack.callback(delete_queue, args.broker, queue)
        processes = []
        for n in range(1, workers + 1):
            cwd = work / f"w{workers}_worker{n}"
            cwd.mkdir()
            log = cwd / "worker.log"
            process = start_worker(queue, f"w{n}-{queue}@%h", env, cwd, log)
            stack.callback(stop_worker, process)
            processes.append((process, log))
        for process, log in processes:
            wait_ready(log, process)
        started = time.time()
        daemon_log = open(work / f"daemon_w{workers}.log", "wb")  # noqa: SIM115 - closed by the stack
        stack.callback(daemon_log.close)
        daemon = subprocess.Popen(
            [str(Path(sys.executable).parent / "dagster-daemon"), "run", "-w", "workspace.yaml"],
            cwd=ROOT, env=env, stdout=daemon_log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        stack.callback(stop_daemon, daemon)
        instance = stack.enter_context(dg.DagsterInstance.from_config(str(home)))
        sampler = stack.enter_context(RssSampler([daemon.pid, *(p.pid for p, _ in processes)],
                                                 {p.pid for p, _ in processes}))
        deadline = time.monotonic() + args.timeout
        expected_batches = -(-args.docs // args.batch_size)
        while True:
            records = run_records(instance)
            batch_ids = sorted(instance.get_dynamic_partitions("upload_batches"))
            covered = sum(partitions_of(r.dagster_run, batch_ids) for r in records)
            if (len(batch_ids) >= expected_batches and covered >= len(batch_ids)
                    and all(r.dagster_run.status in TERMINAL for r in records)):
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"{workers} worker(s): {covered}/{expected_batches} batches in runs after "
                                   f"{args.timeout} s; see {work}")
            if daemon.poll() is not None:
                raise RuntimeError(f"dagster-daemon exited: {(work / f'daemon_w{workers}.log').read_text()[-2000:]}")
            time.sleep(2)
        sampler.sample()
        records = run_records(instance)
        first_start = min(r.start_time for r in records if r.start_time)
        last_end = max(r.end_time for r in records if r.end_time)
        per_batch = []
        for record in records:
            steps = step_seconds(instance, record.dagster_run.run_id)
            extraction = sum(steps.get(s, 0.0) for s in ASSET_STEPS)
            wall = (record.end_time or 0) - (record.start_time or 0)
            batches = max(1, partitions_of(record.dagster_run, batch_ids))
            per_batch.append({"batches": batches, "run_s": wall, "extraction_s": extraction,
                              "status": record.dagster_run.status.value})
        overheads = [100 * (b["run_s"] - b["extraction_s"]) / b["extraction_s"] for b in per_batch
                     if b["extraction_s"] > 0]
        counts = warehouse_counts(warehouse_url)
        processed_seconds = last_end - first_start
        ok = sum(1 for b in per_batch if b["status"] == "SUCCESS")
        return {
            "workers": workers,
            "concurrent_runs": concurrent_runs,
            "runs": len(records),
            "runs_succeeded": ok,
            "batches": len(batch_ids),
            "seconds_first_run_start_to_last_run_end": round(processed_seconds, 1),
            "seconds_daemon_start_to_last_run_end": round(last_end - started, 1),
            "docs_per_s": round(counts["text_docs"] / processed_seconds, 2) if processed_seconds > 0 else None,
            "extraction_s_per_batch_median": round(statistics.median(b["extraction_s"] / b["batches"]
                                                                     for b in per_batch), 2),
            "run_s_per_batch_median": round(statistics.median(b["run_s"] / b["batches"] for b in per_batch), 2),
            "overhead_pct_of_extraction_median": round(statistics.median(overheads), 1) if overheads else None,
            "overhead_pct_of_extraction_max": round(max(overheads), 1) if overheads else None,
            "peak_rss": sampler.by_role(),
            "exactly_once": {
                **counts,
                "ok": counts["manifest_rows"] == counts["manifest_docs"] == args.docs
                and counts["text_rows"] == counts["text_docs"] == args.docs - counts["failed_items"]
                and counts["skill_duplicate_pairs"] == 0,
            },
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=10_000, help="documents to generate (default 10,000)")
    parser.add_argument("--workers", default="1,2", help="worker counts to measure, comma-separated")
    parser.add_argument("--semantic", type=int, choices=(0, 1), default=int(os.environ.get("SKILLATLAS_SEMANTIC",
                                                                                           "1") not in ("0", "")))
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--concurrent-runs", type=int, default=0, help="run queue limit (default 2 x workers)")
    parser.add_argument("--timeout", type=float, default=6 * 3600, help="seconds per worker count")
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--broker", default=os.environ.get("SKILLATLAS_CELERY_BROKER", DEFAULT_BROKER))
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs) after the run")
    args = parser.parse_args()
    counts = [int(w) for w in args.workers.split(",") if w.strip()]
    work = Path(tempfile.mkdtemp(prefix="bench_scale_"))
    try:
        inbox = work / "inbox"
        corpus = generate_corpus(args.docs, inbox)
        data_dir = work / "data"
        ref = reference_state(data_dir)
        results = [run_configuration(args, w, inbox, data_dir, ref, work) for w in counts]
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    by_workers = {r["workers"]: r for r in results}
    ratio = None
    if 1 in by_workers and 2 in by_workers and by_workers[1]["docs_per_s"]:
        ratio = round(by_workers[2]["docs_per_s"] / by_workers[1]["docs_per_s"], 2)  # type: ignore[operator]
    print(json.dumps({
        "benchmark": "bench_scale",
        "docs": args.docs,
        "semantic": bool(args.semantic),
        "batch_size": args.batch_size,
        "corpus": corpus,
        "cpu_cores": os.cpu_count(),
        "docs_per_s_ratio_2_vs_1_workers": ratio,
        "results": results,
        "all_exactly_once": all(r["exactly_once"]["ok"] for r in results),  # type: ignore[index]
    }))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
