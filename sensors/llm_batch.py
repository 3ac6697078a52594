"""llm_batch_sensor: polls the open OpenAI Batch API jobs and launches their collection when they end."""

import dagster as dg

from jobs.llm_batch import llm_batch_collect_job, set_phase
from resources.extractor import ExtractorResource
from resources.warehouse import WarehouseResource
from sensors.common import polling_sensor
from skillatlas.extract.llm.batch import TERMINAL_STATUSES, BatchClient
from skillatlas.store.tables import LLM_BATCH_JOBS


@polling_sensor(
    "llm_batch_sensor",
    "Polls submitted OpenAI batches (batches.retrieve); a completed, expired, cancelled or failed "
    "batch launches llm_batch_collect_job for its job_key. Records each batch's status in llm_batch_jobs.",
    every_seconds=120,
    job=llm_batch_collect_job,
)
def llm_batch_sensor(
    context: dg.SensorEvaluationContext, warehouse: WarehouseResource, extractor: ExtractorResource
) -> dg.SensorResult | dg.SkipReason:
    if not warehouse.has_table(LLM_BATCH_JOBS):
        return dg.SkipReason("no batch job yet")
    jobs = warehouse.read_table(LLM_BATCH_JOBS, {"phase": "submitted"})
    if jobs.empty:
        return dg.SkipReason("no submitted batch job")
    client = None
    requests: list[dg.RunRequest] = []
    waiting: list[str] = []
    for job in jobs.to_dict("records"):
        batch_id = job.get("openai_batch_id") or ""
        status = str(job.get("status") or "")
        if batch_id:
            client = client or BatchClient(extractor.openai_client())
            batch = client.retrieve(batch_id)
            status = str(batch.status)
            if status != job.get("status"):
                set_phase(warehouse, job, status=status)
        if batch_id and status not in TERMINAL_STATUSES:
            waiting.append(f"{job['job_key']}: {status}")
            continue
        requests.append(dg.RunRequest(
            run_key=f"{job['job_key']}:{batch_id or 'offline'}:{status}",
            run_config={"ops": {"collect_llm_batch": {"config": {"job_key": job["job_key"]}}}},
            tags={"skillatlas/llm_batch_job": job["job_key"], "skillatlas/openai_batch_id": batch_id},
        ))
    if not requests:
        return dg.SkipReason("waiting: " + ", ".join(waiting))
    return dg.SensorResult(run_requests=requests)
