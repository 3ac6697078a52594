"""A local OpenAI-compatible chat-completions server for tests and benchmarks (stdlib only).

    with FakeOpenAIServer(latency=0.0) as server:
        client = OpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0)
        server.script(rate_limited(retry_after=1), ok())     # next requests, in order
        server.when("BAD DOC", server_error(500))            # every request whose document contains "BAD DOC"
        ...
        server.requests  # RecordedRequest list (headers, body, system prompt, document, candidates, status)

Behaviour selection per request: a matching ``when`` rule first, then the ``script`` queue, then ``default``
(success). With ``rpm_limit`` the server enforces a request token bucket (capacity ``rpm/60 * burst_seconds``,
at least 1) and answers 429 + Retry-After / retry-after-ms when it is empty, before any behaviour.

"Success" answers are built from the prompt like a well-behaved model: every candidate (``- id | label`` lines
of the system prompt) whose label occurs in the delimited document is returned with its evidence. The server
never logs requests (headers include the Authorization bearer token).
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = [
    "Behaviour",
    "FakeOpenAIServer",
    "RecordedRequest",
    "content",
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

    def do_GET(self) -> None:  # noqa: N802
        self._send_json(404, {"error": {"message": "not found", "type": "invalid_request_error"}})

    def do_POST(self) -> None:  # noqa: N802
        state = self.server.state
        arrived = time.monotonic()
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not self.path.rstrip("/").endswith("/chat/completions"):
            error = {"message": f"unknown path {self.path}", "type": "invalid_request_error"}
            self._send_json(404, {"error": error})
            return
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            self._send_json(400, {"error": {"message": "body is not JSON", "type": "invalid_request_error"}})
            return
        messages = body.get("messages") or []

        def joined(*roles: str) -> str:
            return "\n".join(str(m.get("content", "")) for m in messages if m.get("role") in roles)

        system, user = joined("system", "developer"), joined("user")
        m = _DOCUMENT.search(user)
        document = m.group(2) if m else None
        candidates = [(a, b.strip()) for a, b in _CANDIDATE_LINE.findall(system)]

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
        status, payload, headers = self._answer(behaviour, body, document or "", candidates, system + user)
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

    def reset(self) -> None:
        with self._state.lock:
            self._state.requests.clear()
            self._state.queue.clear()
            self._state.rules.clear()
