"""Fault-test support: throw-away PostgreSQL databases, process trees, RSS sampling, polling."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import sqlalchemy as sa

T = TypeVar("T")


def admin_engine(base_url: str) -> sa.Engine:
    """AUTOCOMMIT engine on the server's maintenance connection (CREATE/DROP DATABASE need it)."""
    return sa.create_engine(base_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)


@contextmanager
def temporary_database(base_url: str, prefix: str = "skillatlas_fault") -> Iterator[str]:
    """CREATE a fresh database on the server of `base_url`, yield its URL, DROP it afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    engine = admin_engine(base_url)
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(base_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        from resources.warehouse import dispose_engines

        dispose_engines()
        with engine.connect() as conn:
            conn.execute(
                sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :d AND pid <> "
                        "pg_backend_pid()"),
                {"d": name},
            )
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        engine.dispose()


def terminate_backends(base_url: str, database: str) -> int:
    """Kill every server connection to `database` (but our own); the number killed."""
    engine = admin_engine(base_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :d AND pid <> "
                        "pg_backend_pid()"),
                {"d": database},
            ).fetchall()
        return sum(1 for (ok,) in rows if ok)
    finally:
        engine.dispose()


def children_of(pid: int) -> list[int]:
    """All descendants of `pid` (from /proc; no psutil needed)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(entry.name))
    out: list[int] = []
    stack = [pid]
    while stack:
        for child in parents.get(stack.pop(), []):
            out.append(child)
            stack.append(child)
    return out


def kill_tree(pid: int) -> list[int]:
    """SIGKILL `pid` and its descendants (a lost node: nothing gets to clean up). The pids killed."""
    victims = [pid, *children_of(pid)]
    for victim in victims:
        try:
            os.kill(victim, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return victims


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z")


def stop_process_group(process: subprocess.Popen[bytes], timeout: float) -> None:
    """Stop the process group of ``process`` (a daemon started with ``start_new_session``) as a Celery worker is
    stopped (SIGTERM, SIGKILL after ``timeout`` seconds), then SIGKILL every descendant still alive: the code
    server and run workers may sit in process groups of their own."""
    from workers.local import stop_worker

    left = children_of(process.pid)
    stop_worker(process, timeout)
    for pid in left:
        if alive(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def wait_for(predicate: Callable[[], T], timeout: float, interval: float = 0.5, what: str = "condition") -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def rss_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakRss:
    """Samples this process's RSS every `interval` seconds; `peak_growth` = peak - RSS at start."""

    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval
        self.start = 0
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_bytes())
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakRss:
        self.start = self.peak = rss_bytes()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_bytes())

    @property
    def peak_growth(self) -> int:
        return self.peak - self.start
