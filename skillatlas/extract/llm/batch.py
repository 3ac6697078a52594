"""OpenAI Batch API mode: the same grounded extraction as the synchronous path, at batch pricing.

Life of one batch job (the phase is persisted by the caller after each step, so a crash at any point resumes):

    prepared   requests built (one JSONL line per document chunk, same prompt as the synchronous path) and the
               offline mentions of every selected document staged
    uploaded   the JSONL file uploaded (``files.create(purpose="batch")``); resume looks the file up by name
    submitted  ``batches.create`` (metadata ``skillatlas_job``); resume looks the batch up by that metadata
    staged     batch terminal: output and error files downloaded and validated/grounded like (1) of the sync path,
               the final rows, ledger rows and review entries staged
    done       every upload batch committed (one transaction each)
    (cancelled before submission, failed when the Batch API rejected the file)

This module has no Dagster or warehouse code: it builds requests, talks to the API through
:class:`BatchClient` (the openai SDK's own retries apply: ``max_retries`` on the client) and turns output
files into per-document results. Raw output files are parsed in memory and never written anywhere: a model that
echoes request data cannot get it to disk.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from skillatlas.errors import ErrorKind, ItemError
from skillatlas.extract.llm.config import LLMConfig, LLMStats
from skillatlas.extract.llm.grounding import DocOutcome, ground_items
from skillatlas.extract.llm.openai_extractor import (
    _response_format,
    apply_records,
    build_messages,
    chunk_text,
    parse_completion,
)

if TYPE_CHECKING:
    from skillatlas.extract.offline import SkillMention

__all__ = [
    "BATCH_ENDPOINT",
    "BatchClient",
    "BatchDocResult",
    "BatchRequest",
    "TERMINAL_STATUSES",
    "build_requests",
    "collect_results",
]

log = logging.getLogger(__name__)

BATCH_ENDPOINT = "/v1/chat/completions"
TERMINAL_STATUSES = frozenset({"completed", "expired", "cancelled", "failed"})
METADATA_KEY = "skillatlas_job"


@dataclass(frozen=True)
class BatchRequest:
    """One JSONL line: a chunk of one document with its candidate list (kept to validate the answer)."""

    custom_id: str
    batch_id: str
    doc_id: str
    item: str
    chunk_start: int
    chunk_end: int
    candidates: tuple[tuple[str, str], ...]

    def as_row(self) -> dict[str, Any]:
        return {"custom_id": self.custom_id, "batch_id": self.batch_id, "doc_id": self.doc_id, "item": self.item,
                "chunk_start": self.chunk_start, "chunk_end": self.chunk_end,
                "candidates": json.dumps([list(c) for c in self.candidates], ensure_ascii=False)}

    @classmethod
    def from_row(cls, row: Any) -> BatchRequest:
        return cls(str(row["custom_id"]), str(row["batch_id"]), str(row["doc_id"]), str(row["item"]),
                   int(row["chunk_start"]), int(row["chunk_end"]),
                   tuple((str(a), str(b)) for a, b in json.loads(row["candidates"])))


def build_requests(
    docs: Iterable[tuple[str, str, str, str]],
    candidates: Callable[[str], Sequence[tuple[str, str]]],
    config: LLMConfig,
) -> tuple[list[BatchRequest], list[str]]:
    """``docs``: (batch_id, doc_id, item, text) routed to the LLM -> requests and their JSONL lines.

    Same chunking, candidates, prompt, guard and response schema as the synchronous extractor; chunks without
    candidates are not sent."""
    requests: list[BatchRequest] = []
    lines: list[str] = []
    options: dict[str, Any] = {}
    if config.max_output_tokens is not None:
        options["max_completion_tokens"] = config.max_output_tokens
    if config.temperature is not None:
        options["temperature"] = config.temperature
    for batch_id, doc_id, item, text in docs:
        for offset, chunk in chunk_text(text, config.chunk_chars):
            cands: dict[str, str] = {}
            for sid, label in candidates(chunk):
                cands.setdefault(sid, label)
                if len(cands) >= config.max_candidates:
                    break
            if not cands:
                continue
            cand_list = list(cands.items())
            request = BatchRequest(f"{doc_id}:{offset}", batch_id, doc_id, item, offset, offset + len(chunk),
                                   tuple(cand_list))
            body = {"model": config.model, "messages": build_messages(chunk, cand_list, config),
                    "response_format": _response_format(cand_list, config), **options}
            requests.append(request)
            lines.append(json.dumps({"custom_id": request.custom_id, "method": "POST", "url": BATCH_ENDPOINT,
                                     "body": body}, ensure_ascii=False))
    return requests, lines


@dataclass
class BatchDocResult:
    """LLM result of one document of a batch job: grounded mentions, or an error (offline mentions kept)."""

    mentions: list[SkillMention] = field(default_factory=list)
    outcome: DocOutcome = field(default_factory=DocOutcome)


def _parse_lines(data: bytes | None, stats: LLMStats) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    if not data:
        return out
    for raw in data.splitlines():
        if not raw.strip():
            continue
        try:
            line = json.loads(raw)
            out[str(line["custom_id"])] = line
        except (ValueError, KeyError, TypeError):
            stats.extra["garbage_output_lines"] = stats.extra.get("garbage_output_lines", 0) + 1
    return out


def collect_results(
    requests: Sequence[BatchRequest],
    texts: dict[str, str],
    output: bytes | None,
    errors: bytes | None,
    config: LLMConfig,
    *,
    batch_status: str,
) -> tuple[dict[str, BatchDocResult], LLMStats]:
    """Validate and ground the output (and error) file lines of a terminal batch, per document.

    A document fails (``outcome.error``) when any of its requests has no valid answer: an error-file line, a
    garbage or schema-invalid line, or no line at all (expired/cancelled batch). Tokens are costed at batch
    pricing. ``texts``: doc_id -> document text (the chunk is re-cut from it: model output is never trusted
    for anything but ids, confidences and the quote to search for).
    """
    from openai.types.chat import ChatCompletion

    stats = LLMStats()
    answered = _parse_lines(output, stats)
    failed = _parse_lines(errors, stats)
    by_doc: dict[str, list[BatchRequest]] = {}
    for request in requests:
        by_doc.setdefault(request.doc_id, []).append(request)
    results: dict[str, BatchDocResult] = {}
    missing_kind = ErrorKind.TIMEOUT if batch_status == "expired" else ErrorKind.MODEL_ERROR
    for doc_id, doc_requests in by_doc.items():
        text = texts[doc_id]
        result = BatchDocResult()
        best: dict[str, SkillMention] = {}
        stats.documents += 1
        for request in doc_requests:
            stats.requests += 1
            line = answered.get(request.custom_id) or failed.get(request.custom_id)
            error: ItemError | None = None
            if line is None:
                error = ItemError(missing_kind, f"no answer in the batch output (batch {batch_status})",
                                  transient=True)
            else:
                response = line.get("response") or {}
                status = response.get("status_code")
                if status != 200:
                    # only our own words and the status code: server-provided text is not stored
                    error = ItemError(ErrorKind.MODEL_ERROR, f"batch request failed: HTTP {status}",
                                      transient=bool(status is None or status >= 500 or status == 429))
                else:
                    try:
                        completion = ChatCompletion.model_validate(response.get("body"))
                    except ValueError:  # pydantic's message quotes the input: not kept
                        completion, reason = None, "the response body is not a chat completion"
                    if completion is not None:
                        usage = completion.usage
                        if usage is not None:
                            stats.prompt_tokens += int(usage.prompt_tokens or 0)
                            stats.completion_tokens += int(usage.completion_tokens or 0)
                        try:
                            items = parse_completion(completion, dict(request.candidates), stats)
                        except ValueError as exc:  # our own message, no model text
                            completion, reason = None, str(exc)
                    if completion is None:
                        stats.invalid_outputs += 1
                        error = ItemError(ErrorKind.MODEL_ERROR, f"invalid model output: {reason}", transient=False)
                        result.outcome.invalid_output = True
                    else:
                        chunk = text[request.chunk_start:request.chunk_end]
                        before = stats.dropped_out_of_taxonomy
                        records = ground_items(chunk, items)
                        records += [{"not_candidate": True}] * (stats.dropped_out_of_taxonomy - before)
                        apply_records(text, request.chunk_start, records, config, stats, result.outcome, best)
            if error is not None and result.outcome.error is None:
                result.outcome.error = error
        if result.outcome.error is not None:
            stats.failures += 1
            result.outcome.fallback = True
            stats.llm_fallbacks += 1
        else:
            result.mentions = sorted(best.values(), key=lambda m: (-m.confidence, m.start))
        results[doc_id] = result
    stats.cost_usd = config.cost_usd(stats.prompt_tokens, stats.completion_tokens, batch=True)
    stats.extra["sync_cost_usd"] = round(config.cost_usd(stats.prompt_tokens, stats.completion_tokens), 6)
    return results, stats


class BatchClient:
    """The Batch API calls of one job, over an ``openai.OpenAI`` client (whose ``max_retries`` retries 5xx,
    429 and connection errors with the SDK's backoff). Every lookup used to resume is by a name we chose."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def find_file(self, filename: str) -> str | None:
        for f in self.client.files.list(purpose="batch"):
            if f.filename == filename:
                return str(f.id)
        return None

    def upload(self, filename: str, data: bytes) -> str:
        """Upload unless a file of that name is already there (a crash after the upload, before it was saved)."""
        existing = self.find_file(filename)
        if existing is not None:
            return existing
        return str(self.client.files.create(file=(filename, data), purpose="batch").id)

    def find_batch(self, job_key: str) -> Any | None:
        for batch in self.client.batches.list(limit=100):
            if (batch.metadata or {}).get(METADATA_KEY) == job_key:
                return batch
        return None

    def submit(self, job_key: str, input_file_id: str) -> Any:
        """Create the batch unless one for this job exists (a crash after create, before it was saved)."""
        existing = self.find_batch(job_key)
        if existing is not None:
            return existing
        return self.client.batches.create(input_file_id=input_file_id, endpoint=BATCH_ENDPOINT,
                                          completion_window="24h", metadata={METADATA_KEY: job_key})

    def retrieve(self, batch_id: str) -> Any:
        return self.client.batches.retrieve(batch_id)

    def cancel(self, batch_id: str) -> Any:
        return self.client.batches.cancel(batch_id)

    def download(self, file_id: str | None) -> bytes | None:
        if not file_id:
            return None
        return bytes(self.client.files.content(file_id).content)
