"""A Batch API backfill of N short synthetic documents through the real Dagster jobs, against the fake server.

Setup (not timed): the skill taxonomy is materialised into a temporary warehouse, N synthetic documents (a few
taxonomy labels in filler sentences) are written to `document_text` in upload batches of 100. Then, timed:
llm_batch_submit_job (prepare = offline phrase matching + candidates + JSONL, upload, create), the sensor's polls
until the batch is terminal, and llm_batch_collect_job (download + validate + ground + stage, commit per upload
batch). Extraction mode `openai` (every document goes to the LLM), phrase matching only (semantic off).

Prints one JSON line: phase seconds, wall time, documents and rows committed, tokens, cost at batch pricing vs
the synchronous price of the same tokens.

    python benchmarks/bench_llm_batch.py [--docs 1000]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import tempfile
import time
import warnings
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

FILLER = [
    "The team meets weekly to review progress.",
    "Candidates should communicate clearly with colleagues.",
    "Coursework includes a final project and a written report.",
    "We offer flexible hours and a friendly environment.",
]


def timed(phases: dict[str, float], name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            phases[name] += time.perf_counter() - t0

    return wrapper


def main(argv: list[str] | None = None) -> int:
    warnings.filterwarnings("ignore")
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=1000)
    ap.add_argument("--batch-size", type=int, default=100, help="documents per upload batch")
    args = ap.parse_args(argv)

    import dagster as dg
    import pandas as pd

    from assets import reference
    from assets.partitions import upload_batches
    from jobs import llm_batch
    from resources.extractor import ExtractorResource
    from sensors.llm_batch import llm_batch_sensor
    from skillatlas.extract.llm import batch as batch_domain
    from skillatlas.store.tables import DOCUMENT_TEXT, TEXT_COLUMNS
    from tests.conftest import make_resources
    from tests.support.fake_openai import FakeOpenAIServer

    with tempfile.TemporaryDirectory() as tmp, dg.instance_for_test() as instance, FakeOpenAIServer() as server:
        data_dir = Path(tmp) / "data"
        resources = make_resources(data_dir, Path(tmp) / "inbox")
        t0 = time.perf_counter()
        assert dg.materialize([reference.skill_taxonomy], resources=resources, instance=instance).success
        setup_s = time.perf_counter() - t0
        taxonomy = resources["warehouse"].read_table("skill_taxonomy")
        rng = random.Random(7)
        labels = [lb for lb in taxonomy["label"] if 3 <= len(lb) <= 30 and lb.isascii()]
        rows, keys = [], []
        for i in range(args.docs):
            batch_id = f"bench-{i // args.batch_size:04d}"
            if not keys or keys[-1] != batch_id:
                keys.append(batch_id)
            picked = rng.sample(labels, 3)
            text = (f"Document {i}. Experience with {picked[0]} and {picked[1]} is required. "
                    f"{rng.choice(FILLER)} Knowledge of {picked[2]} is a plus. {rng.choice(FILLER)}")
            rows.append({"batch_id": batch_id, "doc_id": f"doc-{i:06d}", "relpath": f"jobs/bench-{i}.txt",
                         "kind": "job", "format": "txt", "title": f"bench {i}", "posted_date": None,
                         "sha256": hashlib.sha256(text.encode()).hexdigest(), "char_count": len(text),
                         "truncated": False, "text": text})
        resources["warehouse"].append_rows(DOCUMENT_TEXT, pd.DataFrame(rows, columns=TEXT_COLUMNS))
        instance.add_dynamic_partitions(upload_batches.name, keys)
        resources["extractor"] = ExtractorResource(
            mode="openai", semantic=False, openai_api_key="sk-bench-not-a-key", openai_base_url=server.base_url,
            cache_dir=str(data_dir / "artifacts"), sdk_max_retries=2)

        phases: dict[str, float] = defaultdict(float)
        llm_batch.prepare_job = timed(phases, "prepare", llm_batch.prepare_job)
        batch_domain.BatchClient.upload = timed(phases, "upload", batch_domain.BatchClient.upload)
        batch_domain.BatchClient.submit = timed(phases, "create_batch", batch_domain.BatchClient.submit)
        batch_domain.BatchClient.download = timed(phases, "download", batch_domain.BatchClient.download)
        llm_batch.collect_results = timed(phases, "validate_ground", llm_batch.collect_results)
        llm_batch.stage_results = timed(phases, "stage_total", llm_batch.stage_results)
        llm_batch.commit_upload_batch = timed(phases, "commit", llm_batch.commit_upload_batch)

        wall0 = time.perf_counter()
        t0 = time.perf_counter()
        submit = llm_batch.llm_batch_submit_job.execute_in_process(
            run_config={"ops": {"submit_llm_batch": {"config": {"job_key": "bench"}}}}, instance=instance,
            resources=resources)
        assert submit.success
        phases["submit_run"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        polls = 0
        request = None
        while request is None and polls < 20:
            polls += 1
            with dg.build_sensor_context(instance=instance, resources=resources) as context:
                result = llm_batch_sensor(context)
            if isinstance(result, dg.SensorResult) and result.run_requests:
                request = result.run_requests[0]
        assert request is not None, "batch never finished"
        phases["poll"] = time.perf_counter() - t0  # includes the fake server answering every line
        t0 = time.perf_counter()
        collect = llm_batch.llm_batch_collect_job.execute_in_process(
            run_config=request.run_config, instance=instance, resources=resources)
        assert collect.success
        phases["collect_run"] = time.perf_counter() - t0
        wall = time.perf_counter() - wall0

        warehouse = resources["warehouse"]
        job = warehouse.read_table("llm_batch_jobs", {"job_key": "bench"}).iloc[0]
        skills = warehouse.read_table("document_skills")
        ledger = warehouse.read_table("item_failures")
        requests = int(job["requests"])
        line = {
            "benchmark": "llm_batch_backfill",
            "documents": args.docs,
            "upload_batches": len(keys),
            "requests": requests,
            "input_jsonl_bytes": Path(job["input_path"]).stat().st_size,
            "phase": job["phase"],
            "batch_status": job["status"],
            "sensor_polls": polls,
            "phases_s": {k: round(v, 3) for k, v in phases.items()},
            "wall_s": round(wall, 2),
            "documents_in_job": int(job["documents"]),
            "documents_with_skills": int(skills["doc_id"].nunique()),
            "upload_batches_committed": len(json.loads(job["committed_batches"])),
            "skill_rows_committed": len(skills),
            "rows_by_method": {k: int(v) for k, v in skills["method"].value_counts().items()},
            "ledger_rows": len(ledger),
            "prompt_tokens": int(job["prompt_tokens"]),
            "completion_tokens": int(job["completion_tokens"]),
            "cost_usd_batch": round(float(job["cost_usd"]), 4),
            "cost_usd_sync_same_tokens": round(float(job["sync_cost_usd"]), 4),
            "cost_ratio": round(float(job["cost_usd"]) / float(job["sync_cost_usd"]), 3)
            if float(job["sync_cost_usd"]) else None,
            "sync_minutes_at_500_rpm_estimate": round(requests / 500, 1),
            "setup_taxonomy_s": round(setup_s, 1),
            "model": "fake server, gpt-4o-mini list prices",
        }
        line["ok"] = (line["documents_in_job"] == args.docs and job["phase"] == "done"
                      and line["upload_batches_committed"] == len(keys))
    print(json.dumps(line))
    return 0 if line["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
