"""OpenAI Batch API mode for backfills and re-extraction: submit, collect (validate, stage, commit), cancel.

    llm_batch_submit_job   select documents, build + upload the JSONL, create the batch   (or reextract_job with
                           llm_mode=batch, or SKILLATLAS_LLM_MODE=batch)
    llm_batch_sensor       polls open batches; a terminal batch launches llm_batch_collect_job
    llm_batch_collect_job  download output + error files, validate and ground every answer, stage, then commit
                           per upload batch (one transaction each)
    llm_batch_cancel_job   cancel a job (before submission: nothing is sent; after: the batch is cancelled and
                           whatever it answered is committed, the rest keeps offline skills with a ledger row)

Every phase is persisted in the warehouse table `llm_batch_jobs` (with the staged data in `llm_batch_*` tables),
each phase change in the same transaction as the data it produced, so a crash anywhere resumes where it stopped:
re-run the job with the same `job_key`. Uploads and batch creation are found again by name/metadata, so a crash
between an API call and its bookkeeping does not duplicate them. The domain logic is `skillatlas.extract.llm.batch`.
"""

import json
import re
from typing import Any

import dagster as dg
import pandas as pd
import sqlalchemy as sa
from pydantic import Field

from assets.documents import STEP_RETRY
from assets.llm_review import PENDING, review_frame
from jobs.operator import OPERATOR_TAGS, check_selection, config_error, document_skills_of, selected_text
from resources.artifacts import ArtifactStore
from resources.extractor import ExtractorResource
from resources.warehouse import WarehouseResource, delete_rows, dumps, read_rows, utc_now_iso, write_frame
from skillatlas.extract.base import Extractor
from skillatlas.extract.llm.batch import TERMINAL_STATUSES, BatchClient, BatchRequest, build_requests, collect_results
from skillatlas.extract.llm.cascade import CascadeExtractor
from skillatlas.extract.llm.grounding import OutcomeJournal
from skillatlas.extract.llm.report import DocRef, outcome_report
from skillatlas.ingest.batches import ItemFailure, skill_rows
from skillatlas.store.batches import archive_extraction, failures_frame, update_ledger
from skillatlas.store.tables import (
    DOCUMENT_SKILLS,
    DOCUMENT_TEXT,
    LLM_BATCH_DOCUMENTS,
    LLM_BATCH_JOBS,
    LLM_BATCH_REQUESTS,
    LLM_BATCH_STAGED_FAILURES,
    LLM_BATCH_STAGED_REVIEWS,
    LLM_BATCH_STAGED_SKILLS,
    SKILL_COLUMNS,
    SKILLS_REVIEW_QUEUE,
)

STAGING_TABLES = (
    LLM_BATCH_REQUESTS, LLM_BATCH_DOCUMENTS, LLM_BATCH_STAGED_SKILLS, LLM_BATCH_STAGED_FAILURES,
    LLM_BATCH_STAGED_REVIEWS,
)
BATCH_TAGS = {"skillatlas/queue": "extraction", **OPERATOR_TAGS}
_JOB_KEY = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
VERSION_PREFIX = "openai-batch@1"


# ------------------------------------------------------------------------------------------------ state


def load_job(warehouse: WarehouseResource, job_key: str) -> dict[str, Any] | None:
    rows = warehouse.read_table(LLM_BATCH_JOBS, {"job_key": job_key})
    return None if rows.empty else rows.iloc[0].to_dict()


def save_job(conn: sa.Connection, job: dict[str, Any]) -> None:
    """Upsert the job row inside the caller's transaction (with the data of the phase it records)."""
    job["updated_at"] = utc_now_iso()
    delete_rows(conn, LLM_BATCH_JOBS, {"job_key": job["job_key"]})
    write_frame(conn, LLM_BATCH_JOBS, pd.DataFrame([job]))


def set_phase(warehouse: WarehouseResource, job: dict[str, Any], **changes: Any) -> dict[str, Any]:
    job.update(changes)
    with warehouse.engine.begin() as conn:
        save_job(conn, job)
    return job


def _metadata(job: dict[str, Any]) -> dict[str, Any]:
    return {
        "job_key": job["job_key"], "phase": job["phase"], "openai_batch_id": job.get("openai_batch_id") or "",
        "openai_batch_status": job.get("status") or "", "documents": int(job.get("documents") or 0),
        "routed_to_llm": int(job.get("routed_documents") or 0), "requests": int(job.get("requests") or 0),
    }


# ------------------------------------------------------------------------------------------------ submit


class BatchSelection(dg.Config):
    job_key: str = Field(default="", description="Resume (or name) this batch job; default: a new key from the run id")
    batch_ids: list[str] = Field(default=[], description="Only these upload batches (default: all)")
    kinds: list[str] = Field(default=[], description="Only these document kinds: course, job (default: both)")
    limit: int | None = Field(default=None, description="At most this many documents (oldest batches first)")
    force: bool = Field(default=False, description="Also documents already extracted by the current version")


def batch_version(extractor: ExtractorResource, offline: Extractor) -> str:
    """Model, prompt (template hash) and the offline extractor (taxonomy): like the synchronous versions."""
    return f"{VERSION_PREFIX}:{extractor.openai_model}:prompt-{extractor.llm_config().prompt_hash}+{offline.version}"


def prepare_job(
    context: dg.OpExecutionContext, warehouse: WarehouseResource, artifacts: ArtifactStore,
    extractor: ExtractorResource, selection: BatchSelection, job_key: str,
) -> dict[str, Any]:
    """Select documents, extract offline, route, build the JSONL; persist it all with phase `prepared`."""
    from jobs.reextract import select_documents

    if extractor.mode not in ("openai", "cascade"):
        raise config_error(f"Batch API mode needs extractor mode openai or cascade, not {extractor.mode!r}")
    batch_ids = check_selection(selection.kinds, selection.limit, selection.batch_ids)
    taxonomy, vectors = extractor.stored_taxonomy(warehouse, artifacts)
    candidates = extractor.candidates(taxonomy, vectors)
    offline = candidates.offline
    config = extractor.llm_config()
    version = batch_version(extractor, offline)
    text = selected_text(warehouse, batch_ids, selection.kinds)
    skills = document_skills_of(warehouse, text)
    selected, _ = select_documents(text, skills, version, force=selection.force, limit=selection.limit)
    threshold = extractor.cascade_threshold
    staged: list[dict[str, object]] = []
    routed: list[tuple[str, str, str, str]] = []
    for doc in selected.itertuples(index=False):
        mentions = offline.extract(doc.text)
        staged.extend(skill_rows(doc, mentions, version))
        # cascade: only documents the offline extractor is unsure about; openai: every document
        if extractor.mode == "openai" or not any(m.confidence >= threshold for m in mentions):
            routed.append((str(doc.batch_id), str(doc.doc_id), str(doc.relpath), str(doc.text)))
    requests, lines = build_requests(routed, candidates, config)
    path = artifacts.path("llm_batches", f"{job_key}.jsonl")
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    job = {
        "job_key": job_key, "phase": "prepared", "status": "", "openai_batch_id": "", "input_file_id": "",
        "output_file_id": "", "error_file_id": "",
        "upload_batches": dumps(sorted(set(selected["batch_id"].astype(str)))) if len(selected) else "[]",
        "documents": len(selected), "routed_documents": len(routed), "requests": len(requests),
        "committed_batches": "[]", "prompt_tokens": 0, "completion_tokens": 0, "cost_usd": 0.0,
        "sync_cost_usd": 0.0, "llm_fallbacks": 0, "dropped_ungrounded": 0, "review_queued": 0,
        "extractor_version": version, "input_path": str(path), "created_by_run": context.run_id,
        "created_at": utc_now_iso(), "message": "",
    }
    docs = selected[["batch_id", "doc_id", "relpath", "kind"]].assign(job_key=job_key) if len(selected) else \
        pd.DataFrame(columns=["batch_id", "doc_id", "relpath", "kind", "job_key"])
    with warehouse.engine.begin() as conn:
        for table in STAGING_TABLES:
            delete_rows(conn, table, {"job_key": job_key})
        write_frame(conn, LLM_BATCH_REQUESTS, pd.DataFrame([{**r.as_row(), "job_key": job_key} for r in requests],
                                                       columns=["custom_id", "batch_id", "doc_id", "item",
                                                                "chunk_start", "chunk_end", "candidates", "job_key"]))
        write_frame(conn, LLM_BATCH_DOCUMENTS, docs)
        write_frame(conn, LLM_BATCH_STAGED_SKILLS, pd.DataFrame(staged, columns=SKILL_COLUMNS).assign(job_key=job_key))
        save_job(conn, job)
    context.log.info(f"batch job {job_key}: {len(selected)} document(s), {len(routed)} routed to the LLM, "
                     f"{len(requests)} request(s) in {path.name}")
    return job


def advance_submission(
    context: dg.OpExecutionContext, warehouse: WarehouseResource, artifacts: ArtifactStore,
    extractor: ExtractorResource, selection: BatchSelection,
) -> dict[str, Any]:
    job_key = selection.job_key or f"llmb-{context.run_id[:12]}"
    if not _JOB_KEY.match(job_key):
        raise config_error(f"job_key {job_key!r} must be 1-64 letters, digits, '-' or '_'")
    job = load_job(warehouse, job_key)
    if job is None:
        job = prepare_job(context, warehouse, artifacts, extractor, selection, job_key)
    if job["phase"] == "prepared" and int(job["requests"]) == 0:
        job = set_phase(warehouse, job, phase="submitted", status="completed", message="no document needs the LLM")
    if job["phase"] == "prepared":
        client = BatchClient(extractor.openai_client())
        data = open(job["input_path"], "rb").read()  # noqa: PTH123, SIM115 - small file, closed by GC at once
        file_id = client.upload(f"skillatlas-{job_key}.jsonl", data)
        job = set_phase(warehouse, job, phase="uploaded", input_file_id=file_id)
    if job["phase"] == "uploaded":
        client = BatchClient(extractor.openai_client())
        batch = client.submit(job_key, job["input_file_id"])
        job = set_phase(warehouse, job, phase="submitted", openai_batch_id=str(batch.id), status=str(batch.status))
    for batch_id in json.loads(job["upload_batches"]):
        context.log_event(dg.AssetObservation(asset_key=DOCUMENT_SKILLS, partition=batch_id, metadata=_metadata(job)))
    return job


@dg.op(tags={"skillatlas/queue": "extraction"}, retry_policy=STEP_RETRY, out=dg.Out(dg.Nothing))
def submit_llm_batch(
    context: dg.OpExecutionContext, config: BatchSelection, extractor: ExtractorResource,
    artifacts: ArtifactStore, warehouse: WarehouseResource,
) -> dg.Output[None]:
    """Prepare, upload and submit (or resume) an OpenAI Batch API job; the sensor collects it when done."""
    job = advance_submission(context, warehouse, artifacts, extractor, config)
    return dg.Output(None, metadata=_metadata(job))


@dg.job(tags=BATCH_TAGS, description="Backfill / re-extract skills through the OpenAI Batch API (50% price, "
        "results within 24 h): select documents, upload the JSONL, create the batch. Re-run with job_key to resume.")
def llm_batch_submit_job() -> None:
    submit_llm_batch()


# ------------------------------------------------------------------------------------------------ collect


class BatchJobKey(dg.Config):
    job_key: str = Field(description="The batch job (llm_batch_jobs.job_key)")


def stage_results(
    context: dg.OpExecutionContext, warehouse: WarehouseResource, extractor: ExtractorResource,
    job: dict[str, Any], batch: Any | None,
) -> dict[str, Any]:
    """Download, validate, ground; stage the final rows, ledger rows and review entries (phase `staged`)."""
    from skillatlas.extract.offline import SkillMention

    key = job["job_key"]
    requests = [BatchRequest.from_row(r) for r in warehouse.read_table(LLM_BATCH_REQUESTS, {"job_key": key})
                .to_dict("records")]
    output = errors = None
    status = str(job.get("status") or "completed")
    if batch is not None:
        client = BatchClient(extractor.openai_client())
        status = str(batch.status)
        output = client.download(batch.output_file_id)
        errors = client.download(batch.error_file_id)
    docs = warehouse.read_table(LLM_BATCH_DOCUMENTS, {"job_key": key})
    texts_frame = warehouse.read_table(DOCUMENT_TEXT, {"doc_id": sorted({r.doc_id for r in requests})})
    texts = dict(zip(texts_frame["doc_id"], texts_frame["text"], strict=True)) if len(texts_frame) else {}
    config = extractor.llm_config()
    results, stats = collect_results(requests, texts, output, errors, config, batch_status=status)
    staged = warehouse.read_table(LLM_BATCH_STAGED_SKILLS, {"job_key": key})
    version = str(job["extractor_version"])
    rows: list[dict[str, object]] = []
    journal = OutcomeJournal()
    offline_by_doc: dict[str, list[SkillMention]] = {}
    for r in staged.itertuples(index=False):
        offline_by_doc.setdefault(str(r.doc_id), []).append(SkillMention(
            r.skill_id, r.label, float(r.confidence), r.method, int(r.evidence_start), int(r.evidence_end),
            r.evidence))
    for doc in docs.itertuples(index=False):
        offline = offline_by_doc.get(str(doc.doc_id), [])
        result = results.get(str(doc.doc_id))
        mentions = offline
        if result is not None:
            journal.record(texts[doc.doc_id], result.outcome)
            if result.outcome.error is None:
                mentions = CascadeExtractor.merge(offline, result.mentions)
        rows.extend(skill_rows(doc, mentions, version))
    refs = [DocRef(str(d.batch_id), str(d.doc_id), str(d.relpath), texts[d.doc_id])
            for d in docs.itertuples(index=False) if d.doc_id in texts]
    report = outcome_report(journal, refs, run_id=context.run_id)
    # cancelled/expired/failed requests are failures too (outcome_report lists fallbacks only: here all are)
    failures = pd.DataFrame(
        [{"job_key": key, "batch_id": f["batch_id"], "item": f["item"], "error_kind": f["error_kind"],
          "message": f["message"].replace("LLM failed", f"LLM batch {status}"), "transient": f["transient"]}
         for f in report.failures],
        columns=["job_key", "batch_id", "item", "error_kind", "message", "transient"])
    reviews = review_frame(report.reviews, context.run_id, version).assign(job_key=key)
    job.update(
        phase="staged", status=status, output_file_id=str(getattr(batch, "output_file_id", "") or ""),
        error_file_id=str(getattr(batch, "error_file_id", "") or ""), prompt_tokens=stats.prompt_tokens,
        completion_tokens=stats.completion_tokens, cost_usd=round(stats.cost_usd, 6),
        sync_cost_usd=float(stats.extra.get("sync_cost_usd", 0.0)), llm_fallbacks=stats.llm_fallbacks,
        dropped_ungrounded=stats.dropped_ungrounded, review_queued=len(reviews),
        message=f"{stats.invalid_outputs} invalid answer(s), {int(stats.extra.get('garbage_output_lines', 0))} "
        f"garbage line(s)",
    )
    with warehouse.engine.begin() as conn:
        delete_rows(conn, LLM_BATCH_STAGED_SKILLS, {"job_key": key})
        delete_rows(conn, LLM_BATCH_STAGED_FAILURES, {"job_key": key})
        delete_rows(conn, LLM_BATCH_STAGED_REVIEWS, {"job_key": key})
        write_frame(conn, LLM_BATCH_STAGED_SKILLS, pd.DataFrame(rows, columns=SKILL_COLUMNS).assign(job_key=key))
        write_frame(conn, LLM_BATCH_STAGED_FAILURES, failures)
        write_frame(conn, LLM_BATCH_STAGED_REVIEWS, reviews)
        save_job(conn, job)
    return job


def commit_upload_batch(
    context: dg.OpExecutionContext, warehouse: WarehouseResource, job: dict[str, Any], batch_id: str
) -> dict[str, Any]:
    """One upload batch in one transaction: archive, replace its selected documents' rows, ledger rows, review
    entries, and the job's committed list. Idempotent: a committed batch is never committed twice."""
    key = job["job_key"]
    with warehouse.engine.begin() as conn:
        docs = read_rows(conn, LLM_BATCH_DOCUMENTS, {"job_key": key, "batch_id": batch_id})
        doc_ids = list(docs["doc_id"]) if len(docs) else []
        staged = read_rows(conn, LLM_BATCH_STAGED_SKILLS, {"job_key": key, "batch_id": batch_id})
        failures = read_rows(conn, LLM_BATCH_STAGED_FAILURES, {"job_key": key, "batch_id": batch_id})
        reviews = read_rows(conn, LLM_BATCH_STAGED_REVIEWS, {"job_key": key, "batch_id": batch_id})
        archive_extraction(conn, [batch_id], context.run_id)
        if doc_ids:
            delete_rows(conn, DOCUMENT_SKILLS, {"batch_id": batch_id, "doc_id": doc_ids})
            delete_rows(conn, SKILLS_REVIEW_QUEUE, {"doc_id": doc_ids, "status": PENDING})
        if len(staged):  # nothing to add (an empty, untyped frame must not create the table either)
            write_frame(conn, DOCUMENT_SKILLS, staged.drop(columns=["job_key"]))
        if len(reviews):
            write_frame(conn, SKILLS_REVIEW_QUEUE, reviews.drop(columns=["job_key"]))
        if len(failures):
            items = [ItemFailure(batch_id, f.item, f.error_kind, f.message, bool(f.transient))
                     for f in failures.itertuples(index=False)]
            update_ledger(conn, failures_frame(DOCUMENT_SKILLS, context.run_id, items))
        committed = sorted({*json.loads(job["committed_batches"]), batch_id})
        job["committed_batches"] = dumps(committed)
        save_job(conn, job)
    context.log_event(dg.AssetMaterialization(
        asset_key=DOCUMENT_SKILLS, partition=batch_id,
        description=f"committed from OpenAI batch {job.get('openai_batch_id') or '-'} (job {key})",
        metadata={**_metadata(job), "rows": len(staged), "documents_reextracted": len(doc_ids),
                  "llm_failed_documents": len(failures), "review_queued": len(reviews),
                  "job_cost_usd_batch_pricing": float(job["cost_usd"]),
                  "job_cost_usd_sync_pricing": float(job["sync_cost_usd"]), "run_id": context.run_id},
    ))
    return job


def advance_collection(
    context: dg.OpExecutionContext, warehouse: WarehouseResource, extractor: ExtractorResource, job_key: str
) -> dict[str, Any]:
    job = load_job(warehouse, job_key)
    if job is None:
        raise config_error(f"no batch job {job_key!r} in {LLM_BATCH_JOBS}")
    if job["phase"] in ("prepared", "uploaded"):
        raise config_error(f"batch job {job_key} is only {job['phase']}: run llm_batch_submit_job with this job_key")
    if job["phase"] == "submitted":
        batch = None
        if job.get("openai_batch_id"):
            batch = BatchClient(extractor.openai_client()).retrieve(job["openai_batch_id"])
            job = set_phase(warehouse, job, status=str(batch.status))
            if batch.status not in TERMINAL_STATUSES:
                raise config_error(
                    f"batch {batch.id} of job {job_key} is still {batch.status}; the sensor collects it later"
                )
            if batch.status == "failed":
                detail = "; ".join(f"{e.code}" for e in (batch.errors.data if batch.errors else []) or [])[:300]
                return set_phase(warehouse, job, phase="failed", message=f"batch rejected: {detail}")
        job = stage_results(context, warehouse, extractor, job, batch)
    if job["phase"] == "staged":
        for batch_id in json.loads(job["upload_batches"]):
            if batch_id not in json.loads(job["committed_batches"]):
                job = commit_upload_batch(context, warehouse, job, batch_id)
        job = set_phase(warehouse, job, phase="done")
        context.log_event(dg.AssetMaterialization(asset_key=SKILLS_REVIEW_QUEUE, metadata={
            "queued_by_batch_job": int(job["review_queued"]), "job_key": job_key}))
    return job


@dg.op(tags={"skillatlas/queue": "extraction"}, retry_policy=STEP_RETRY, out=dg.Out(dg.Nothing))
def collect_llm_batch(
    context: dg.OpExecutionContext, config: BatchJobKey, extractor: ExtractorResource,
    warehouse: WarehouseResource,
) -> dg.Output[None]:
    """Collect a terminal batch: validate, stage and commit it per upload batch (or resume that)."""
    job = advance_collection(context, warehouse, extractor, config.job_key)
    return dg.Output(None, metadata={
        **_metadata(job), "cost_usd_batch_pricing": float(job["cost_usd"]),
        "cost_usd_sync_pricing": float(job["sync_cost_usd"]), "llm_fallbacks": int(job["llm_fallbacks"]),
        "dropped_ungrounded": int(job["dropped_ungrounded"]), "review_queued": int(job["review_queued"]),
        "committed_batches": dg.MetadataValue.json(json.loads(job["committed_batches"])),
    })


@dg.job(tags=BATCH_TAGS, description="Collect a finished OpenAI batch: validate and ground its answers, stage "
        "and commit them per upload batch (launched by llm_batch_sensor; re-run with the job_key to resume).")
def llm_batch_collect_job() -> None:
    collect_llm_batch()


# ------------------------------------------------------------------------------------------------ cancel


@dg.op(tags={"skillatlas/queue": "extraction"}, out=dg.Out(dg.Nothing))
def cancel_llm_batch(
    context: dg.OpExecutionContext, config: BatchJobKey, extractor: ExtractorResource,
    warehouse: WarehouseResource,
) -> dg.Output[None]:
    """Cancel: before submission the job just stops; after it, the batch is cancelled at OpenAI and the sensor
    collects whatever it answered (unanswered documents keep their offline skills, with a ledger row)."""
    job = load_job(warehouse, config.job_key)
    if job is None:
        raise config_error(f"no batch job {config.job_key!r}")
    if job["phase"] in ("prepared", "uploaded"):
        job = set_phase(warehouse, job, phase="cancelled", message=f"cancelled by run {context.run_id}")
    elif job["phase"] == "submitted" and job.get("openai_batch_id"):
        batch = BatchClient(extractor.openai_client()).cancel(job["openai_batch_id"])
        job = set_phase(warehouse, job, status=str(batch.status), message=f"cancel requested by {context.run_id}")
    else:
        raise config_error(f"batch job {config.job_key} is {job['phase']}: nothing to cancel")
    return dg.Output(None, metadata=_metadata(job))


@dg.job(tags=BATCH_TAGS, description="Cancel an OpenAI Batch API job (config: job_key).")
def llm_batch_cancel_job() -> None:
    cancel_llm_batch()


