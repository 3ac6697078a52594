"""The wall-clock budget of one parse: :data:`PARSE_TIMEOUT_S`, enforced with ``SIGALRM`` when called in the main
thread (and between PDF pages everywhere, through the ``expired()`` callable it yields)."""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable, Iterator
from types import FrameType

__all__ = ["PARSE_TIMEOUT_S", "Deadline", "time_budget"]

PARSE_TIMEOUT_S = 60.0


class Deadline(BaseException):
    """Raised by the alarm handler; a BaseException so that ``except Exception`` cannot catch it."""


@contextlib.contextmanager
def time_budget(seconds: float) -> Iterator[Callable[[], bool]]:
    """Yield ``expired()``; also interrupt the body with :class:`Deadline` via SIGALRM when that is safe
    (main thread, no other ITIMER_REAL timer or SIGALRM handler installed)."""
    start = time.monotonic()

    def expired() -> bool:
        return time.monotonic() - start > seconds

    use_alarm = (
        seconds > 0
        and hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
        and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
        and signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, None)
    )
    if not use_alarm:
        yield expired
        return

    def _on_alarm(signum: int, frame: FrameType | None) -> None:
        raise Deadline()

    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield expired
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
