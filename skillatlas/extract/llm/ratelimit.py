"""Thread-safe client-side rate limiter: requests per minute and tokens per minute (token buckets)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["RateLimiter", "estimate_tokens"]


def estimate_tokens(text: str) -> int:
    """Rough token count used before a call (about 4 characters per token)."""
    return max(1, (len(text) + 3) // 4)


class RateLimiter:
    """Two token buckets (requests and tokens), shared by every thread that talks to one API key.

    * Request bucket: refills at ``requests_per_minute * headroom / 60`` per second; its capacity is
      ``burst_seconds`` worth of that rate (at least 1 request), so requests are spread evenly instead of
      bursting a whole minute's budget at once (providers enforce limits on sub-minute windows). Keeping the
      client's burst below the server's leaves the server's bucket full, which absorbs network jitter.
    * Token bucket: refills at ``tokens_per_minute * headroom / 60`` per second; capacity is one minute's
      budget. ``acquire(tokens)`` takes an *estimate*; ``correct(estimate, actual)`` settles the difference
      once the response's usage is known (the bucket may go negative, which delays later callers).
    * ``pause(seconds)`` blocks every caller until then (used when the server answers 429 + Retry-After).

    ``None`` for a limit disables that bucket. ``clock``/``sleep`` are injectable for tests.
    """

    def __init__(
        self,
        requests_per_minute: float | None,
        tokens_per_minute: float | None = None,
        *,
        burst_seconds: float = 1.0,
        headroom: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not 0 < headroom <= 1:
            raise ValueError("headroom must be within (0, 1]")
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self.requests_per_minute = requests_per_minute
        self.tokens_per_minute = tokens_per_minute
        self._req_rate = requests_per_minute * headroom / 60.0 if requests_per_minute else None
        self._req_cap = max(1.0, self._req_rate * burst_seconds) if self._req_rate else 0.0
        self._tok_rate = tokens_per_minute * headroom / 60.0 if tokens_per_minute else None
        self._tok_cap = tokens_per_minute * headroom if tokens_per_minute else 0.0
        now = clock()
        self._req = self._req_cap
        self._tok = self._tok_cap
        self._last = now
        self._paused_until = now

    def __repr__(self) -> str:
        return f"RateLimiter(rpm={self.requests_per_minute}, tpm={self.tokens_per_minute})"

    def _refill(self, now: float) -> None:
        dt = max(0.0, now - self._last)
        self._last = now
        if self._req_rate:
            self._req = min(self._req_cap, self._req + dt * self._req_rate)
        if self._tok_rate:
            self._tok = min(self._tok_cap, self._tok + dt * self._tok_rate)

    def acquire(self, tokens: int = 0, *, timeout: float | None = None) -> float:
        """Block until one request carrying ``tokens`` (estimated) may be sent; return the seconds waited.

        Raises ``TimeoutError`` if that would take longer than ``timeout`` seconds.
        """
        start = self._clock()
        while True:
            with self._lock:
                now = self._clock()
                self._refill(now)
                need_tok = min(float(tokens), self._tok_cap) if self._tok_rate else 0.0
                wait = 0.0
                if self._paused_until > now:
                    wait = self._paused_until - now
                else:
                    if self._req_rate and self._req < 1.0:
                        wait = max(wait, (1.0 - self._req) / self._req_rate)
                    if self._tok_rate and self._tok < need_tok:
                        wait = max(wait, (need_tok - self._tok) / self._tok_rate)
                if wait <= 0.0:
                    if self._req_rate:
                        self._req -= 1.0
                    if self._tok_rate:
                        self._tok -= float(tokens)
                    return now - start
            if timeout is not None and (now - start) + wait > timeout:
                raise TimeoutError(f"rate limiter: would wait {wait:.1f}s, more than {timeout:.1f}s")
            # Wake up a little later than strictly needed, so another thread's refill is not missed by a hair.
            self._sleep(min(wait + 0.001, 5.0))

    def correct(self, estimated: int, actual: int) -> None:
        """Settle the token bucket once a response reports its real usage."""
        if not self._tok_rate:
            return
        with self._lock:
            self._refill(self._clock())
            self._tok = min(self._tok_cap, self._tok + float(estimated - actual))

    def pause(self, seconds: float) -> None:
        """Hold every caller for ``seconds`` (e.g. the server's Retry-After)."""
        if seconds <= 0:
            return
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)
