"""Skill extraction with an OpenAI(-compatible) chat model, constrained to offline candidates.

Flow for one document: split into chunks of whole sentences (``LLMConfig.chunk_chars``) -> for each chunk ask
the offline retriever for candidate skills -> cache lookup -> one ``chat.completions`` request with a strict
JSON-schema response format -> validate (schema + candidate set) -> SkillMentions with evidence offsets.

Retries are the openai SDK's own (``OpenAI(max_retries=LLMConfig.max_retries, timeout=...)``: timeouts,
connection errors, 408/409/429/5xx, with exponential backoff and the server's Retry-After / retry-after-ms). A
small HTTP transport wrapper only *observes* each attempt: it counts requests, retries, 429s and timeouts into
``LLMStats``, paces every attempt through the shared :class:`RateLimiter` (a Retry-After pauses every thread, not
just the one that got the 429) and marks an answer whose Retry-After exceeds ``LLMConfig.max_retry_after_s`` as
not retryable (``x-should-retry: false``), so such an item fails fast instead of waiting. The one retry left here
is semantic: an answer that is not JSON matching the schema is asked again, within the same attempt budget.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import logging
import math
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import httpx2

from skillatlas.errors import ErrorKind, ItemError
from skillatlas.extract.llm.cache import LLMCache, cache_key
from skillatlas.extract.llm.config import SYSTEM_GUARD, LLMConfig, LLMStats
from skillatlas.extract.llm.grounding import DocOutcome, OutcomeJournal, ground_items
from skillatlas.extract.llm.ratelimit import RateLimiter, estimate_tokens

if TYPE_CHECKING:
    from skillatlas.extract.offline import SkillMention

__all__ = [
    "CandidateFn", "OpenAIExtractor", "RESPONSE_SCHEMA", "VersionedCandidates", "apply_records", "build_messages",
    "chunk_text", "parse_completion",
]

log = logging.getLogger(__name__)

CandidateFn = Callable[[str], Sequence[tuple[str, str]]]
"""``candidates(text) -> [(skill_id, label), ...]``, best first (the offline retriever's top-N)."""


@runtime_checkable
class VersionedCandidates(Protocol):
    """A candidate retriever that says what it retrieves from (e.g. the offline extractor over a taxonomy)."""

    @property
    def version(self) -> str: ...

    def __call__(self, text: str) -> Sequence[tuple[str, str]]: ...

_SKILL_ITEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "skill_id": {"type": "string"},
        "label": {"type": "string"},
        "confidence": {"type": "number"},
        "evidence": {"type": "string"},
    },
    "required": ["skill_id", "label", "confidence", "evidence"],
    "additionalProperties": False,
}
RESPONSE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"skills": {"type": "array", "items": _SKILL_ITEM_SCHEMA}},
    "required": ["skills"],
    "additionalProperties": False,
}
_SCHEMA_NAME = "skill_extraction"
_TRANSIENT_STATUS = frozenset({408, 409, 425, 429})
_EVIDENCE_MAX = 300
INVALID_OUTPUT_PREFIX = "invalid model output"


class _InvalidOutput(Exception):
    """The model answered, but not with JSON matching the schema."""


# --------------------------------------------------------------------------------------------- prompt


def _nonce(text: str) -> str:
    # Derived from the text itself: deterministic (prompt caching) and impossible for the text to contain.
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _clean_label(label: str) -> str:
    return " ".join(str(label).split())


def build_messages(
    text: str, candidates: Sequence[tuple[str, str]], config: LLMConfig
) -> list[dict[str, str]]:
    """System prompt (template + candidates + non-configurable guard) and the delimited document."""
    nonce = _nonce(text)
    lines = "\n".join(f"- {sid} | {_clean_label(label)}" for sid, label in candidates)
    system = (
        config.prompt_template.replace("{candidates}", lines).replace("{max_skills}", str(config.max_skills))
        .rstrip("\n") + "\n\n" + SYSTEM_GUARD.replace("{nonce}", nonce)
    )
    user = f"<<<DOCUMENT {nonce}>>>\n{text}\n<<<END DOCUMENT {nonce}>>>"
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def _response_format(candidates: Sequence[tuple[str, str]], config: LLMConfig) -> dict[str, Any]:
    schema: dict[str, Any] = RESPONSE_SCHEMA
    if config.enum_in_schema:
        item = dict(_SKILL_ITEM_SCHEMA)
        enum = {"type": "string", "enum": [c[0] for c in candidates]}
        item["properties"] = dict(item["properties"], skill_id=enum)
        schema = dict(RESPONSE_SCHEMA, properties={"skills": {"type": "array", "items": item}})
    return {"type": "json_schema", "json_schema": {"name": _SCHEMA_NAME, "strict": True, "schema": schema}}


_BOUNDARY = re.compile(r"\n\s*\n|\n|(?<=[.!?;])\s+")


def chunk_text(text: str, max_chars: int) -> list[tuple[int, str]]:
    """Split ``text`` into ``(offset, chunk)`` pieces of at most ``max_chars``, cutting at paragraph, line or
    sentence boundaries when one exists in the second half of the window (else at whitespace, else hard)."""
    if len(text) <= max_chars:
        return [(0, text)] if text.strip() else []
    out: list[tuple[int, str]] = []
    start, n = 0, len(text)
    while start < n:
        end = min(n, start + max_chars)
        if end < n:
            window = text[start:end]
            cut = None
            for m in _BOUNDARY.finditer(window, max_chars // 2):
                cut = m.end()
            if cut is None:
                ws = window.rfind(" ", max_chars // 2)
                cut = ws + 1 if ws > 0 else len(window)
            end = start + cut
        piece = text[start:end]
        if piece.strip():
            out.append((start, piece))
        start = end
    return out


# --------------------------------------------------------------------------------------------- output


def _parse_output(completion: Any, allowed: Mapping[str, str], stats: LLMStats) -> list[dict[str, Any]]:
    """Validate one completion; return items (candidate label, confidence clamped to [0, 1])."""
    choices = getattr(completion, "choices", None) or []
    if not choices:
        raise _InvalidOutput("no choices in the response")
    choice = choices[0]
    message = choice.message
    if getattr(message, "refusal", None):
        raise _InvalidOutput("the model refused to answer")
    if choice.finish_reason == "length":
        raise _InvalidOutput("the answer was truncated (finish_reason=length)")
    content = message.content
    if not content:
        raise _InvalidOutput("empty message content")
    try:
        data = json.loads(content)
    except json.JSONDecodeError as exc:
        raise _InvalidOutput(f"content is not valid JSON ({exc.msg} at char {exc.pos})") from None
    if not isinstance(data, dict) or set(data) != {"skills"} or not isinstance(data["skills"], list):
        raise _InvalidOutput('content does not match the schema: expected {"skills": [...]}')
    best: dict[str, dict[str, Any]] = {}
    for i, item in enumerate(data["skills"]):
        if not isinstance(item, dict) or set(item) != set(_SKILL_ITEM_SCHEMA["required"]):
            raise _InvalidOutput(f"skills[{i}] does not match the schema")
        sid, conf, evidence = item["skill_id"], item["confidence"], item["evidence"]
        if (not isinstance(sid, str) or not isinstance(item["label"], str) or not isinstance(evidence, str)
                or isinstance(conf, bool) or not isinstance(conf, int | float) or not math.isfinite(conf)):
            raise _InvalidOutput(f"skills[{i}] has a field of the wrong type")
        if sid not in allowed:
            stats.dropped_out_of_taxonomy += 1
            continue
        conf = min(1.0, max(0.0, float(conf)))
        if sid not in best or conf > best[sid]["confidence"]:
            best[sid] = {"skill_id": sid, "label": allowed[sid], "confidence": conf,
                         "evidence": evidence[:_EVIDENCE_MAX]}
    return sorted(best.values(), key=lambda d: -d["confidence"])


# --------------------------------------------------------------------------------------------- errors


def _retry_after(headers: Any) -> float | None:
    """Seconds from ``retry-after-ms`` or ``retry-after`` (seconds or an HTTP date), if present."""
    if headers is None:
        return None
    try:
        ms = headers.get("retry-after-ms")
        if ms is not None:
            return max(0.0, float(ms) / 1000.0)
    except (TypeError, ValueError):
        pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        pass
    try:
        when = email.utils.parsedate_to_datetime(str(value))
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _status_detail(exc: Any) -> str:
    body = getattr(exc, "body", None)
    msg = ""
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict):
            msg = str(err.get("message") or err.get("code") or "")
    return " ".join(msg.split())[:200]


# --------------------------------------------------------------------------------------------- records


def apply_records(text: str, offset: int, records: Sequence[Mapping[str, Any]], config: LLMConfig,
                  stats: LLMStats, outcome: DocOutcome, best: dict[str, SkillMention]) -> None:
    """Turn one chunk's grounded records (chunk starts at ``offset`` of ``text``) into mentions in ``best``.

    Shared by the synchronous extractor and the Batch API path. Below ``min_confidence``: dropped; ungrounded:
    dropped and kept (without model text) in ``outcome.ungrounded``; in ``config.review_zone``: withheld into
    ``outcome.grey_zone``; otherwise a mention whose evidence is ``text[start:end]``, never the model's string.
    """
    from skillatlas.extract.offline import SkillMention

    zone = config.review_zone
    for record in records:
        if record.get("not_candidate"):
            outcome.dropped_not_candidate += 1
            continue
        conf = float(record["confidence"])
        if conf < config.min_confidence:
            stats.dropped_low_confidence += 1
            continue
        if not record["grounded"]:
            stats.dropped_ungrounded += 1
            outcome.ungrounded.append({"skill_id": record["skill_id"], "label": record["label"], "confidence": conf})
            continue
        start, end = offset + int(record["start"]), offset + int(record["end"])
        if zone is not None and zone[0] <= conf < zone[1]:
            stats.withheld_for_review += 1
            outcome.grey_zone.append({"skill_id": record["skill_id"], "label": record["label"], "confidence": conf,
                                      "start": start, "end": end})
            continue
        mention = SkillMention(skill_id=record["skill_id"], label=record["label"], confidence=conf, method="llm",
                               start=start, end=end, evidence=text[start:end])
        prev = best.get(mention.skill_id)
        if prev is None or mention.confidence > prev.confidence:
            best[mention.skill_id] = mention


def parse_completion(completion: Any, allowed: Mapping[str, str], stats: LLMStats) -> list[dict[str, Any]]:
    """Validated items of one completion (raises ``ValueError`` for an invalid answer); Batch API helper."""
    try:
        return _parse_output(completion, allowed, stats)
    except _InvalidOutput as exc:
        raise ValueError(str(exc)) from None


# --------------------------------------------------------------------------------------------- extractor


# --------------------------------------------------------------------------------------------- transport


@dataclass
class _Call:
    """One logical request (all its SDK attempts): what the transport counts into and paces with."""

    stats: LLMStats
    estimate: int
    attempts: int = 0
    retry_after: float | None = None


class _ObservingTransport(httpx2.BaseTransport):
    """Wraps the real transport: counts and paces each attempt the SDK makes; never retries by itself."""

    def __init__(self, inner: httpx2.BaseTransport, owner: OpenAIExtractor) -> None:
        self._inner = inner
        self._owner = owner

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        call: _Call | None = getattr(self._owner._calls, "current", None)
        if call is None:  # not one of our chat requests
            return self._inner.handle_request(request)
        limiter, cfg = self._owner.limiter, self._owner.config
        if call.attempts:
            call.stats.retries += 1
        call.attempts += 1
        call.stats.rate_limit_wait_s += limiter.acquire(call.estimate)
        call.stats.requests += 1
        try:
            response = self._inner.handle_request(request)
        except httpx2.TimeoutException:
            call.stats.timeouts += 1
            raise
        except httpx2.TransportError:
            limiter.correct(call.estimate, 0)
            raise
        status = response.status_code
        if status >= 400:
            limiter.correct(call.estimate, 0)
            if status == 429:
                call.stats.rate_limited += 1
            wait = _retry_after(response.headers)
            call.retry_after = wait
            if wait is not None and (status in _TRANSIENT_STATUS or status >= 500):
                if wait > cfg.max_retry_after_s:
                    response.headers["x-should-retry"] = "false"  # fail fast: the SDK does not wait for it
                else:
                    limiter.pause(wait)  # every thread waits, not just the one the SDK puts to sleep
        return response

    def close(self) -> None:
        self._inner.close()


# --------------------------------------------------------------------------------------------- extractor


class OpenAIExtractor:
    """LLM skill extraction constrained to candidate skills.

    Parameters
    ----------
    candidates:
        ``candidates(text) -> [(skill_id, label)]``: the offline retriever's top skills for the text. The
        model may only answer with these ids; other ids are dropped and counted
        (``LLMStats.dropped_out_of_taxonomy``). A chunk with no candidates is not sent. A
        :class:`VersionedCandidates` retriever (e.g. :class:`~skillatlas.extract.llm.OfflineCandidates`) puts
        its version, which covers the taxonomy, into :attr:`version`.
    config:
        :class:`LLMConfig` (model, prompt template, thresholds, limits, prices, retries).
    api_key, base_url:
        Passed to ``openai.OpenAI``; ``api_key=None`` lets the SDK read ``OPENAI_API_KEY``. The key is kept
        only inside the SDK client and scrubbed from every error message this class produces.
    cache:
        Optional :class:`LLMCache`: chunks whose (text, engine, model, prompt, candidates) hash was seen
        are answered from it without a request.
    limiter:
        Optional shared :class:`RateLimiter` (one per API key/organisation); by default one is built from
        ``config.requests_per_minute`` / ``tokens_per_minute``.
    """

    # @2: answers are grounded (evidence located in the document or the skill is dropped) and the cache holds
    # grounded records (offsets, never the model's text); @1 cache entries are therefore not reused.
    ENGINE = "openai-extractor@2"

    def __init__(
        self,
        candidates: CandidateFn,
        config: LLMConfig | None = None,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        cache: LLMCache | None = None,
        limiter: RateLimiter | None = None,
    ) -> None:
        from openai import DefaultHttpxClient, OpenAI

        self.config = config or LLMConfig()
        self._candidates = candidates
        self.retriever_version = candidates.version if isinstance(candidates, VersionedCandidates) else "custom"
        self.cache = cache
        self.limiter = limiter or RateLimiter(
            self.config.requests_per_minute, self.config.tokens_per_minute,
            burst_seconds=self.config.burst_seconds, headroom=self.config.rate_limit_headroom,
        )
        self._secrets = [s for s in (api_key,) if s]
        self._calls = threading.local()
        http_client = DefaultHttpxClient(transport=_ObservingTransport(httpx2.HTTPTransport(), self))
        try:
            client = OpenAI(api_key=api_key, base_url=base_url, timeout=self.config.timeout_s,
                            max_retries=self.config.max_retries, http_client=http_client)
        except Exception as exc:  # e.g. no key given and OPENAI_API_KEY unset
            http_client.close()
            raise ValueError(self._redact(f"cannot create the OpenAI client: {exc}")) from None
        if client.api_key and client.api_key not in self._secrets:
            self._secrets.append(client.api_key)
        self._client = client
        self._lock = threading.Lock()
        self._stats = LLMStats()
        # per-document outcomes (failures, ungrounded / grey-zone skills), read by the Dagster layer
        self.journal = OutcomeJournal()

    @property
    def version(self) -> str:
        """Engine, model, prompt and candidate retriever (taxonomy): a change to any makes old results stale."""
        cfg = self.config
        return f"{self.ENGINE}:{cfg.model}:prompt-{cfg.prompt_hash}:{self.retriever_version}"

    def __repr__(self) -> str:
        return f"OpenAIExtractor(model={self.config.model!r}, version={self.version!r}, cache={self.cache!r})"

    @property
    def stats(self) -> LLMStats:
        """Cumulative usage since this extractor was created (a copy)."""
        with self._lock:
            return replace(self._stats, extra=dict(self._stats.extra))

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> OpenAIExtractor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ public API

    def extract(self, text: str) -> list[SkillMention]:
        """Skills of one document, ranked by confidence. Raises :class:`ItemError` on failure."""
        stats = LLMStats(documents=1)
        outcome = DocOutcome()
        try:
            return self._extract(text, stats, outcome)
        except ItemError as exc:
            stats.failures += 1
            self._failed(outcome, exc)
            raise
        finally:
            self._record(stats)
            self.journal.record(text, outcome)

    def rank(self, sentence: str, k: int = 10) -> list[tuple[str, float]]:
        """Rank skills for one sentence (evaluation): the model's picks by confidence, then the remaining
        candidates in retriever order with scores below every pick. Raises :class:`ItemError`."""
        stats = LLMStats(documents=1)
        try:
            cands = self._candidate_list(sentence)
            items = self._items_for_chunk(sentence, cands, stats) if cands else []
        except ItemError:
            stats.failures += 1
            raise
        finally:
            self._record(stats)
        ranked = [(d["skill_id"], float(d["confidence"])) for d in items if d.get("grounded")]
        picked = {sid for sid, _ in ranked}
        rest = [sid for sid, _ in cands if sid not in picked]
        floor = min((s for _, s in ranked), default=1.0)
        ranked += [(sid, floor * 0.5 * (1.0 - i / (len(rest) + 1))) for i, sid in enumerate(rest)]
        return ranked[:k]

    # ------------------------------------------------------------------ internals

    def _record(self, stats: LLMStats) -> None:
        with self._lock:
            self._stats.add(stats)

    def count(self, **counters: int) -> None:
        """Add to the cumulative counters (e.g. the cascade's ``llm_fallbacks``)."""
        stats = LLMStats()
        for name, value in counters.items():
            setattr(stats, name, value)
        self._record(stats)

    @staticmethod
    def _failed(outcome: DocOutcome, error: ItemError) -> None:
        outcome.error = error
        outcome.invalid_output = error.message.startswith(INVALID_OUTPUT_PREFIX)

    def _redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
        return text

    def _candidate_list(self, text: str) -> list[tuple[str, str]]:
        seen: dict[str, str] = {}
        for sid, label in self._candidates(text):
            if sid not in seen:
                seen[sid] = label
            if len(seen) >= self.config.max_candidates:
                break
        return list(seen.items())

    def _extract(self, text: str, stats: LLMStats, outcome: DocOutcome | None = None) -> list[SkillMention]:
        """Grounded mentions of one document. Every mention's evidence is ``text[start:end]``; skills whose
        quote is not in the document are dropped (``dropped_ungrounded``) and kept, without model text, in
        ``outcome.ungrounded``; grounded skills in the review grey zone are withheld into
        ``outcome.grey_zone``."""

        outcome = outcome if outcome is not None else DocOutcome()
        best: dict[str, SkillMention] = {}
        for offset, chunk in chunk_text(text, self.config.chunk_chars):
            cands = self._candidate_list(chunk)
            if not cands:
                stats.skipped_no_candidates += 1
                continue
            records = self._items_for_chunk(chunk, cands, stats)
            apply_records(text, offset, records, self.config, stats, outcome, best)
        return sorted(best.values(), key=lambda m: (-m.confidence, m.start))

    def _items_for_chunk(
        self, chunk: str, cands: list[tuple[str, str]], stats: LLMStats
    ) -> list[dict[str, Any]]:
        """Grounded records of one chunk (see :func:`ground_items`), from the cache or one request. The cache
        stores these records (candidate ids and labels, confidences, offsets): no model text is persisted."""
        key = None
        if self.cache is not None:
            # model and prompt are in the key; the engine constant (not `version`) keeps entries valid across
            # taxonomy versions, since the candidate set itself is part of the key
            key = cache_key(chunk, extractor_version=self.ENGINE, model=self.config.model,
                            prompt_hash=self.config.prompt_hash, candidates=cands)
            cached = self.cache.get(key)
            if cached is not None and all(isinstance(r, dict) and ("grounded" in r or r.get("not_candidate"))
                                          for r in cached):
                stats.cache_hits += 1
                stats.dropped_out_of_taxonomy += sum(1 for r in cached if r.get("not_candidate"))
                return cached
        before = stats.dropped_out_of_taxonomy
        records = ground_items(chunk, self._request(chunk, cands, stats))
        records += [{"not_candidate": True}] * (stats.dropped_out_of_taxonomy - before)
        if self.cache is not None and key is not None:
            self.cache.put(key, records, model=self.config.model)
        return records

    def _request(self, chunk: str, cands: list[tuple[str, str]], stats: LLMStats) -> list[dict[str, Any]]:
        """One chat completion, validated. Transport-level retries are the SDK's; an invalid answer is asked
        again while the attempt budget (``max_retries + 1`` requests) lasts."""
        from openai import APIConnectionError, APIStatusError, APITimeoutError

        cfg = self.config
        messages = build_messages(chunk, cands, cfg)
        allowed = dict(cands)
        options: dict[str, Any] = {}
        if cfg.max_output_tokens is not None:
            options["max_completion_tokens"] = cfg.max_output_tokens
        if cfg.temperature is not None:
            options["temperature"] = cfg.temperature
        prompt_chars = messages[0]["content"] + messages[1]["content"]
        call = _Call(stats, estimate_tokens(prompt_chars) + (cfg.max_output_tokens or 0))
        response_format = _response_format(cands, cfg)
        budget = cfg.max_retries + 1
        while True:
            self._calls.current = call
            try:
                client = self._client.with_options(max_retries=budget - 1 - call.attempts)
                completion = client.chat.completions.create(  # type: ignore[call-overload]
                    model=cfg.model, messages=messages, response_format=response_format, **options,
                )
            except APITimeoutError:
                raise ItemError(ErrorKind.TIMEOUT, f"no answer within {cfg.timeout_s:g}s{_after(call)}",
                                transient=True) from None
            except APIConnectionError as exc:
                message = self._redact(f"connection error: {exc}{_after(call)}")
                raise ItemError(ErrorKind.MODEL_ERROR, message, transient=True) from None
            except APIStatusError as exc:
                raise self._status_error(exc, call) from None
            finally:
                self._calls.current = None
            usage = completion.usage
            if usage is not None:
                p, c = int(usage.prompt_tokens or 0), int(usage.completion_tokens or 0)
                stats.prompt_tokens += p
                stats.completion_tokens += c
                stats.cost_usd += cfg.cost_usd(p, c)
                self.limiter.correct(call.estimate, p + c)
            try:
                return _parse_output(completion, allowed, stats)
            except _InvalidOutput as exc:
                stats.invalid_outputs += 1
                message = f"{INVALID_OUTPUT_PREFIX}: {exc}"
                if call.attempts >= budget:
                    raise ItemError(ErrorKind.MODEL_ERROR, f"{message}{_after(call)}", transient=False) from None
                log.warning("model answer invalid (%s); asking again (%d/%d)", message, call.attempts,
                            budget - 1)

    def _status_error(self, exc: Any, call: _Call) -> ItemError:
        status = int(exc.status_code)
        detail = self._redact(_status_detail(exc))
        what = f"HTTP {status}" + (f": {detail}" if detail else "")
        if status in _TRANSIENT_STATUS or status >= 500:
            wait = call.retry_after
            if wait is not None and wait > self.config.max_retry_after_s:
                message = f"{what}; Retry-After {wait:.0f}s exceeds {self.config.max_retry_after_s:g}s"
                return ItemError(ErrorKind.MODEL_ERROR, message, transient=True)
            return ItemError(ErrorKind.MODEL_ERROR, f"{what} from the model API{_after(call)}", transient=True)
        if status in (401, 403):
            what = f"HTTP {status}: authentication/permission error (check key and model access)"
        return ItemError(ErrorKind.MODEL_ERROR, f"{what} from the model API", transient=False)


def _after(call: _Call) -> str:
    return f" (after {call.attempts} attempts)" if call.attempts > 1 else ""
