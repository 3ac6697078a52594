"""A local OpenAI-compatible server for tests and benchmarks (stdlib only): chat completions, files, batches.

    with FakeOpenAIServer(latency=0.0) as server:
        client = OpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0)
        server.script(rate_limited(retry_after=1), ok())     # next requests, in order
        server.when("BAD DOC", server_error(500))            # every request whose document contains "BAD DOC"
        ...
        server.requests  # RecordedRequest list (headers, body, system prompt, document, candidates, status)

Behaviour selection per request: a matching ``when`` rule first, then the ``script`` queue, then ``default``
(success). With ``rpm_limit`` the server enforces a request token bucket (capacity ``rpm/60 * burst_seconds``,
at least 1) and answers 429 + Retry-After / retry-after-ms when it is empty, before any behaviour.

Batch API: ``POST /v1/files`` (multipart upload), ``GET /v1/files[/{id}[/content]]``, ``POST /v1/batches``,
``GET /v1/batches[/{id}]``, ``POST /v1/batches/{id}/cancel``. A batch advances on each retrieval (validating ->
in_progress -> completed/expired/failed; cancelling -> cancelled); each JSONL line is answered like a chat request
(rules and the default behaviour apply; non-200 answers go to the error file). ``server.batch_switches`` sets
slow, expired, failed, garbage-output and HTTP-error misbehaviour (see :class:`BatchSwitches`).

"Success" answers are built from the prompt like a well-behaved model: every candidate (``- id | label`` lines
of the system prompt) whose label occurs in the delimited document is returned with its evidence. The server
never logs requests (headers include the Authorization bearer token).
"""

from __future__ import annotations

import email.policy
import json
import math
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

__all__ = [
    "Behaviour",
    "FakeOpenAIServer",
    "RecordedRequest",
    "content",
    "extract_concurrently",
    "follows_injection",
    "malformed",
    "ok",
    "out_of_taxonomy",
    "rate_limited",
    "server_error",
    "slow",
]

_CANDIDATE_LINE = re.compile(r"^- (\S+) \| (.+)$", re.MULTILINE)
_DOCUMENT = re.compile(r"<<<DOCUMENT (\w+)>>>\n(.*)\n<<<END DOCUMENT \1>>>", re.DOTALL)
_INJECTED_ID = re.compile(r"skill_id\s*['\"]([^'\"]+)['\"]")


@dataclass(frozen=True)
class Behaviour:
    """What the server does with one request.

    kind: "success" | "status" (HTTP error ``status``) | "rate_limit" (429 with the Retry-After headers)
    | "malformed" (200 with content that is not JSON)
    | "content" (200 with ``payload``: dict -> JSON, str -> raw)
    | "out_of_taxonomy" (success + a skill that is not a candidate) | "follows_injection" (success + any
    ``skill_id 'x'`` the document asks for, i.e. a model that fell for a prompt injection).
    ``delay`` adds latency (a delay beyond the client timeout simulates a hung server).
    """

    kind: str = "success"
    status: int = 200
    retry_after: float | None = None
    retry_after_ms: float | None = None
    delay: float = 0.0
    payload: Any = None
    confidence: float = 0.9


def ok(confidence: float = 0.9, delay: float = 0.0) -> Behaviour:
    return Behaviour("success", confidence=confidence, delay=delay)


def rate_limited(retry_after: float | None = 1, retry_after_ms: float | None = None) -> Behaviour:
    return Behaviour("rate_limit", status=429, retry_after=retry_after, retry_after_ms=retry_after_ms)


def server_error(status: int = 500) -> Behaviour:
    return Behaviour("status", status=status)


def slow(delay: float) -> Behaviour:
    return Behaviour("success", delay=delay)


def malformed() -> Behaviour:
    return Behaviour("malformed")


def content(payload: Any) -> Behaviour:
    return Behaviour("content", payload=payload)


def out_of_taxonomy() -> Behaviour:
    return Behaviour("out_of_taxonomy")


def follows_injection() -> Behaviour:
    return Behaviour("follows_injection")


@dataclass
class RecordedRequest:
    time: float  # time.monotonic() at arrival
    path: str
    headers: dict[str, str]  # lower-cased names
    body: dict[str, Any]
    system: str
    document: str | None  # the text between the document markers (None if not delimited)
    candidates: list[tuple[str, str]]
    behaviour: str
    status: int = 0  # HTTP status answered (0: the client went away first)


@dataclass
class _Rule:
    contains: str
    behaviour: Behaviour
    remaining: int | None


@dataclass
class _State:
    latency: float
    default: Behaviour
    rpm_limit: float | None
    burst_seconds: float
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)
    queue: deque[Behaviour] = field(default_factory=deque)
    rules: list[_Rule] = field(default_factory=list)
    requests: list[RecordedRequest] = field(default_factory=list)
    bucket: float = 0.0
    bucket_at: float = 0.0
    files: dict[str, dict[str, Any]] = field(default_factory=dict)     # id -> file object + "_data" bytes
    batches: dict[str, dict[str, Any]] = field(default_factory=dict)   # id -> batch object + "_" fields
    batch: BatchSwitches = field(default_factory=lambda: BatchSwitches())
    calls: list[tuple[str, str]] = field(default_factory=list)        # (method, path) of files/batches calls
    seq: int = 0


@dataclass
class BatchSwitches:
    """Misbehaviour of the Batch API side (the chat behaviours/rules apply to each JSONL line as well).

    polls_in_progress: retrievals answered "in_progress" before the batch completes (a slow batch)
    outcome: "completed" | "expired" (only ``expire_after`` lines answered) | "failed" (validation failure,
        no output at all)
    garbage_lines: this many output lines are replaced by bytes that are not JSON
    create_status / upload_status / retrieve_status / content_status: answer these calls with this HTTP
        status instead (e.g. 500); ``*_times`` how many times (None: always)
    """

    polls_in_progress: int = 1
    outcome: str = "completed"
    expire_after: int = 0
    garbage_lines: int = 0
    create_status: int | None = None
    create_times: int | None = None
    upload_status: int | None = None
    upload_times: int | None = None
    retrieve_status: int | None = None
    retrieve_times: int | None = None
    content_status: int | None = None
    content_times: int | None = None


def _success_items(
    document: str, candidates: list[tuple[str, str]], confidence: float
) -> list[dict[str, Any]]:
    lower = document.lower()
    items = []
    for sid, label in candidates:
        i = lower.find(label.lower())
        if i >= 0:
            items.append(
                {
                    "skill_id": sid,
                    "label": label,
                    "confidence": confidence,
                    "evidence": document[i : i + len(label)],
                }
            )
    return items


def _public(obj: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if obj is None else {k: v for k, v in obj.items() if not k.startswith("_")}


def _parse_chat(body: dict[str, Any]) -> tuple[str, str, str | None, list[tuple[str, str]]]:
    messages = body.get("messages") or []

    def joined(*roles: str) -> str:
        return "\n".join(str(m.get("content", "")) for m in messages if m.get("role") in roles)

    system, user = joined("system", "developer"), joined("user")
    m = _DOCUMENT.search(user)
    candidates = [(a, b.strip()) for a, b in _CANDIDATE_LINE.findall(system)]
    return system, user, (m.group(2) if m else None), candidates


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - never log (Authorization header)
        return

    def _send_json(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(obj).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.close_connection = True

    def _send_bytes(self, status: int, data: bytes, content_type: str) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.close_connection = True

    def _injected_failure(self, switch: str) -> bool:
        """Answer with the switch's HTTP status (e.g. a 500) if it is set and has times left."""
        sw = self.server.state.batch
        status = getattr(sw, f"{switch}_status")
        times = getattr(sw, f"{switch}_times")
        if status is None or times == 0:
            return False
        if times is not None:
            setattr(sw, f"{switch}_times", times - 1)
        self._send_json(status, {"error": {"message": f"fake {switch} error {status}", "type": "server_error"}})
        return True

    def do_GET(self) -> None:  # noqa: N802
        state = self.server.state
        path = self.path.split("?", 1)[0].rstrip("/")
        with state.lock:
            state.calls.append(("GET", path))
        parts = path.split("/")
        if path.endswith("/files"):
            with state.lock:
                data = [_public(f) for f in state.files.values()]
            self._send_json(200, {"object": "list", "data": data, "has_more": False})
            return
        if len(parts) >= 2 and parts[-1] == "content" and parts[-3] == "files":
            if self._injected_failure("content"):
                return
            with state.lock:
                f = state.files.get(parts[-2])
            if f is None:
                self._send_json(404, {"error": {"message": "no such file", "type": "invalid_request_error"}})
            else:
                self._send_bytes(200, f["_data"], "application/octet-stream")
            return
        if len(parts) >= 2 and parts[-2] == "files":
            with state.lock:
                f = state.files.get(parts[-1])
            self._send_json(200, _public(f)) if f else self._send_json(404, {"error": {"message": "no file"}})
            return
        if path.endswith("/batches"):
            with state.lock:
                data = [_public(b) for b in sorted(state.batches.values(), key=lambda b: -b["_seq"])]
            self._send_json(200, {"object": "list", "data": data, "has_more": False,
                                  "first_id": data[0]["id"] if data else None,
                                  "last_id": data[-1]["id"] if data else None})
            return
        if len(parts) >= 2 and parts[-2] == "batches":
            if self._injected_failure("retrieve"):
                return
            with state.lock:
                batch = state.batches.get(parts[-1])
                if batch is not None:
                    self.server.advance(batch)
                    answer = _public(batch)
            if batch is None:
                self._send_json(404, {"error": {"message": "no such batch", "type": "invalid_request_error"}})
            else:
                self._send_json(200, answer)
            return
        self._send_json(404, {"error": {"message": "not found", "type": "invalid_request_error"}})

    def _post_file(self, raw: bytes) -> None:
        if self._injected_failure("upload"):
            return
        message = BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + self.headers.get("Content-Type", "").encode() + b"\r\n\r\n" + raw
        )
        fields: dict[str, Any] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            fields[str(name)] = (part.get_filename(), part.get_payload(decode=True) or b"")
        if "file" not in fields or "purpose" not in fields:
            self._send_json(400, {"error": {"message": "file and purpose are required"}})
            return
        state = self.server.state
        with state.lock:
            state.seq += 1
            fid = f"file-fake{state.seq:06d}"
            filename, data = fields["file"]
            obj = {"id": fid, "object": "file", "bytes": len(data), "created_at": int(time.time()),
                   "filename": filename or "upload", "purpose": fields["purpose"][1].decode(), "status": "processed",
                   "_data": data}
            state.files[fid] = obj
        self._send_json(200, _public(obj))

    def _post_batch(self, body: dict[str, Any], cancel: str | None) -> None:
        state = self.server.state
        if cancel is not None:
            with state.lock:
                batch = state.batches.get(cancel)
                if batch is not None and batch["status"] in ("validating", "in_progress", "finalizing"):
                    batch["status"] = "cancelling"
                    batch["cancelling_at"] = int(time.time())
                answer = _public(batch) if batch else None
            self._send_json(200, answer) if answer else self._send_json(404, {"error": {"message": "no batch"}})
            return
        if self._injected_failure("create"):
            return
        with state.lock:
            f = state.files.get(str(body.get("input_file_id")))
            if f is None or f["purpose"] != "batch":
                self._send_json(400, {"error": {"message": "input_file_id is not a batch file"}})
                return
            state.seq += 1
            now = int(time.time())
            lines = [ln for ln in f["_data"].decode("utf-8").splitlines() if ln.strip()]
            batch = {
                "id": f"batch_fake{state.seq:06d}", "object": "batch", "endpoint": body.get("endpoint"),
                "errors": None, "input_file_id": f["id"], "completion_window": body.get("completion_window"),
                "status": "validating", "output_file_id": None, "error_file_id": None, "created_at": now,
                "in_progress_at": None, "expires_at": now + 86400, "finalizing_at": None, "completed_at": None,
                "failed_at": None, "expired_at": None, "cancelling_at": None, "cancelled_at": None,
                "request_counts": {"total": len(lines), "completed": 0, "failed": 0},
                "metadata": body.get("metadata"),
                "_seq": state.seq, "_lines": lines, "_polls": 0,
                "_auth": {k.lower(): v for k, v in self.headers.items()}.get("authorization", ""),
            }
            state.batches[batch["id"]] = batch
            answer = _public(batch)
        self._send_json(200, answer)

    def do_POST(self) -> None:  # noqa: N802
        state = self.server.state
        arrived = time.monotonic()
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        path = self.path.split("?", 1)[0].rstrip("/")
        if path.endswith("/files") or "/batches" in path:
            with state.lock:
                state.calls.append(("POST", path))
            if path.endswith("/files"):
                self._post_file(raw)
                return
            parts = path.split("/")
            cancel = parts[-2] if parts[-1] == "cancel" else None
            try:
                body = json.loads(raw or b"{}") if cancel is None else {}
            except ValueError:
                self._send_json(400, {"error": {"message": "body is not JSON"}})
                return
            self._post_batch(body, cancel)
            return
        if not self.path.rstrip("/").endswith("/chat/completions"):
            error = {"message": f"unknown path {self.path}", "type": "invalid_request_error"}
            self._send_json(404, {"error": error})
            return
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            self._send_json(400, {"error": {"message": "body is not JSON", "type": "invalid_request_error"}})
            return
        system, user, document, candidates = _parse_chat(body)
        limited_wait = self.server.take_token(arrived)
        with state.lock:
            if limited_wait is not None:
                behaviour = rate_limited(math.ceil(limited_wait), retry_after_ms=limited_wait * 1000)
            else:
                behaviour = self._pick(state, document or user)
            headers = {k.lower(): v for k, v in self.headers.items()}
            record = RecordedRequest(
                time=arrived,
                path=self.path,
                headers=headers,
                body=body,
                system=system,
                document=document,
                candidates=candidates,
                behaviour=behaviour.kind,
            )
            state.requests.append(record)

        delay = behaviour.delay + (state.latency if behaviour.kind != "rate_limit" else 0.0)
        if delay > 0 and state.stop.wait(delay):
            return
        status, payload, headers = self._answer(behaviour, body, document or "", candidates, system + user,
                                                headers.get("authorization", ""))
        record.status = status
        self._send_json(status, payload, headers)

    @staticmethod
    def _pick(state: _State, text: str) -> Behaviour:
        for rule in state.rules:
            if rule.contains in text and (rule.remaining is None or rule.remaining > 0):
                if rule.remaining is not None:
                    rule.remaining -= 1
                return rule.behaviour
        if state.queue:
            return state.queue.popleft()
        return state.default

    @staticmethod
    def _answer(
        behaviour: Behaviour,
        body: dict[str, Any],
        document: str,
        candidates: list[tuple[str, str]],
        prompt: str,
        auth: str = "",
    ) -> tuple[int, Any, dict[str, str]]:
        kind = behaviour.kind
        if kind == "rate_limit":
            headers = {}
            if behaviour.retry_after is not None:
                headers["Retry-After"] = f"{behaviour.retry_after:g}"
            if behaviour.retry_after_ms is not None:
                headers["retry-after-ms"] = f"{behaviour.retry_after_ms:.0f}"
            return (
                429,
                {
                    "error": {
                        "message": "Rate limit reached for requests",
                        "type": "requests",
                        "code": "rate_limit_exceeded",
                    }
                },
                headers,
            )
        if kind == "status":
            error = {"message": f"fake error {behaviour.status}", "type": "server_error", "code": None}
            return behaviour.status, {"error": error}, {}
        if kind == "malformed":
            text = '{"skills": [{"skill_id": "oops", '  # truncated JSON
        elif kind == "content":
            p = behaviour.payload
            text = p if isinstance(p, str) else json.dumps(p)
        else:
            items = _success_items(document, candidates, behaviour.confidence)
            if kind == "out_of_taxonomy":
                items.append(
                    {
                        "skill_id": "esco:not-a-candidate",
                        "label": "Underwater basket weaving",
                        "confidence": 0.99,
                        "evidence": document[:20],
                    }
                )
            elif kind == "follows_injection":
                for sid in _INJECTED_ID.findall(document):
                    items.append({"skill_id": sid, "label": sid, "confidence": 1.0, "evidence": sid})
                if "authorization" in document.lower() or "api key" in document.lower():
                    # the document asked for the request's credentials, and this model hands them over: in the
                    # evidence and label of every skill, and as an extra "skill" named after the key
                    for item in items:
                        item["evidence"] = f"{item['evidence']} {auth}"
                        item["label"] = f"{item['label']} {auth}"
                    items.append({"skill_id": auth, "label": auth, "confidence": 1.0, "evidence": auth})
            text = json.dumps({"skills": items})
        prompt_tokens = max(1, len(prompt) // 4)
        completion_tokens = max(1, len(text) // 4)
        return (
            200,
            {
                "id": f"chatcmpl-fake{time.monotonic_ns()}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", "fake"),
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "logprobs": None,
                        "message": {"role": "assistant", "content": text, "refusal": None},
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
            },
            {},
        )


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    state: _State

    def advance(self, batch: dict[str, Any]) -> None:
        """Move a batch along its life cycle on each retrieval (caller holds the state lock)."""
        st, sw = self.state, self.state.batch
        now = int(time.time())
        batch["_polls"] += 1
        if batch["status"] == "validating":
            if sw.outcome == "failed":
                batch.update(status="failed", failed_at=now, errors={"object": "list", "data": [
                    {"code": "invalid_json_line", "message": "fake validation failure", "line": 1}]})
                return
            batch.update(status="in_progress", in_progress_at=now)
        if batch["status"] == "cancelling":
            self._finish(batch, sw.expire_after, "cancelled", "cancelled_at")
        elif batch["status"] == "in_progress" and batch["_polls"] > sw.polls_in_progress:
            if sw.outcome == "expired":
                self._finish(batch, sw.expire_after, "expired", "expired_at")
            else:
                self._finish(batch, len(batch["_lines"]), "completed", "completed_at")
        del st  # (kept for symmetry with take_token)

    def _finish(self, batch: dict[str, Any], answered: int, status: str, stamp: str) -> None:
        st, sw = self.state, self.state.batch
        out: list[bytes] = []
        err: list[bytes] = []
        for n, line in enumerate(batch["_lines"][:answered]):
            request = json.loads(line)
            body = request.get("body") or {}
            system, user, document, candidates = _parse_chat(body)
            behaviour = _Handler._pick(st, document or user)
            if behaviour.kind == "rate_limit":
                behaviour = ok()
            code, payload, _ = _Handler._answer(behaviour, body, document or "", candidates, system + user,
                                                batch["_auth"])
            record = {"id": f"batch_req_{n}", "custom_id": request.get("custom_id"),
                      "response": {"status_code": code, "request_id": f"req_{n}", "body": payload}, "error": None}
            (out if code == 200 else err).append(json.dumps(record).encode())
        for i in range(min(sw.garbage_lines, len(out))):
            out[i] = b"\x00not json {" + out[i][:10]
        for lines, key in ((out, "output_file_id"), (err, "error_file_id")):
            if lines:
                st.seq += 1
                fid = f"file-fake{st.seq:06d}"
                data = b"\n".join(lines) + b"\n"
                st.files[fid] = {"id": fid, "object": "file", "bytes": len(data), "created_at": int(time.time()),
                                 "filename": f"{batch['id']}_{key}.jsonl", "purpose": "batch_output",
                                 "status": "processed", "_data": data}
                batch[key] = fid
        batch["request_counts"] = {"total": len(batch["_lines"]), "completed": len(out), "failed": len(err)}
        batch.update(status=status, **{stamp: int(time.time())})

    def take_token(self, now: float) -> float | None:
        """Server-side RPM enforcement: None if allowed, else seconds until the next token."""
        st = self.state
        if not st.rpm_limit:
            return None
        rate = st.rpm_limit / 60.0
        cap = max(1.0, rate * st.burst_seconds)
        with st.lock:
            st.bucket = min(cap, st.bucket + (now - st.bucket_at) * rate)
            st.bucket_at = now
            if st.bucket >= 1.0:
                st.bucket -= 1.0
                return None
            return (1.0 - st.bucket) / rate


class FakeOpenAIServer:
    """Context manager running the fake server on 127.0.0.1 (ephemeral port) in a background thread."""

    def __init__(
        self,
        *,
        latency: float = 0.0,
        rpm_limit: float | None = None,
        burst_seconds: float = 1.0,
        default: Behaviour | None = None,
    ) -> None:
        self._state = _State(
            latency=latency, default=default or ok(), rpm_limit=rpm_limit, burst_seconds=burst_seconds
        )
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle
    def start(self) -> FakeOpenAIServer:
        server = _Server(("127.0.0.1", 0), _Handler)
        server.state = self._state
        now = time.monotonic()
        if self._state.rpm_limit:
            self._state.bucket = max(1.0, self._state.rpm_limit / 60.0 * self._state.burst_seconds)
            self._state.bucket_at = now
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-openai", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._state.stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- configuration
    @property
    def base_url(self) -> str:
        assert self._server is not None, "server not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def script(self, *behaviours: Behaviour) -> None:
        """Queue behaviours for the next requests (not matched by a rule), in order."""
        with self._state.lock:
            self._state.queue.extend(behaviours)

    def when(self, contains: str, behaviour: Behaviour, *, times: int | None = None) -> None:
        """Apply ``behaviour`` to requests whose document contains ``contains`` (``times`` times / always)."""
        with self._state.lock:
            self._state.rules.append(_Rule(contains, behaviour, times))

    def set_default(self, behaviour: Behaviour) -> None:
        with self._state.lock:
            self._state.default = behaviour

    # -- inspection
    @property
    def requests(self) -> list[RecordedRequest]:
        with self._state.lock:
            return list(self._state.requests)

    def count(self, *, status: int | None = None, contains: str | None = None) -> int:
        return sum(
            1
            for r in self.requests
            if (status is None or r.status == status) and (contains is None or contains in (r.document or ""))
        )

    @property
    def batch_switches(self) -> BatchSwitches:
        """Mutable misbehaviour switches of the Batch API side (see :class:`BatchSwitches`)."""
        return self._state.batch

    def files(self) -> dict[str, bytes]:
        with self._state.lock:
            return {fid: f["_data"] for fid, f in self._state.files.items()}

    def batches(self) -> list[dict[str, Any]]:
        with self._state.lock:
            return [dict(b) for b in self._state.batches.values()]

    def calls(self, method: str | None = None, suffix: str | None = None) -> int:
        """How many files/batches calls were made (optionally of one method / path suffix)."""
        with self._state.lock:
            return sum(1 for m, p in self._state.calls
                       if (method is None or m == method) and (suffix is None or p.endswith(suffix)))

    def reset(self) -> None:
        with self._state.lock:
            self._state.requests.clear()
            self._state.queue.clear()
            self._state.rules.clear()


class _Extracts(Protocol):
    def extract(self, text: str) -> Any: ...


def extract_concurrently(
    extractor: _Extracts, docs: list[tuple[str, str]], workers: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Every ``(doc_id, text)`` through ``extractor.extract`` on ``workers`` threads, as the pipeline does one by
    one: the results and the per-item failures (``ItemError``), by document id (disjoint)."""
    from concurrent.futures import ThreadPoolExecutor

    from skillatlas.errors import ItemError

    def one(text: str) -> Any:
        try:
            return extractor.extract(text)
        except ItemError as exc:
            return exc

    with ThreadPoolExecutor(max_workers=workers) as pool:
        outcomes = list(pool.map(one, [text for _, text in docs]))
    results = {d: o for (d, _), o in zip(docs, outcomes, strict=True) if not isinstance(o, ItemError)}
    failures = {d: o for (d, _), o in zip(docs, outcomes, strict=True) if isinstance(o, ItemError)}
    return results, failures
