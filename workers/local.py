"""Start and stop Celery workers of this project on this machine (tests, benchmarks, a single-host deploy).

A worker is `celery -A workers.celery_app worker -Q <queue> -n <name> --concurrency <n>` with the environment
given; on other machines run the same command (see deploy/celery/ and the README).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def worker_command(queue: str, name: str, concurrency: int = 1, loglevel: str = "INFO") -> list[str]:
    return [
        str(Path(sys.executable).parent / "celery"), "-A", "workers.celery_app", "worker",
        "-Q", queue, "-n", name, "--concurrency", str(concurrency), "--loglevel", loglevel,
        # no broadcast chatter between workers: they share nothing but the queue
        "--without-gossip", "--without-mingle",
    ]


def start_worker(
    queue: str, name: str, env: dict[str, str], cwd: Path, log_path: Path, concurrency: int = 1
) -> subprocess.Popen[bytes]:
    """A worker in its own session (its own process group), logging to `log_path`. The code is found through
    PYTHONPATH (the project root), whatever the working directory."""
    env = {**env, "PYTHONPATH": os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)}
    log = open(log_path, "ab")  # noqa: SIM115 - the child owns it from here
    try:
        return subprocess.Popen(
            worker_command(queue, name, concurrency), cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    finally:
        log.close()


def wait_ready(log_path: Path, process: subprocess.Popen[bytes], timeout: float = 90.0) -> None:
    """Until the worker logs that it is consuming (`... ready.`)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"celery worker exited with {process.returncode}: {log_path.read_text()[-2000:]}")
        if log_path.exists() and " ready." in log_path.read_text(errors="replace"):
            return
        time.sleep(0.3)
    raise TimeoutError(f"celery worker not ready after {timeout:.0f} s: {log_path.read_text()[-2000:]}")


def stop_worker(process: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    """Warm shutdown (SIGTERM: finish the current task), then SIGKILL of the process group if it hangs."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def delete_queue(broker: str, queue: str) -> None:
    """Remove a (test or benchmark) queue from the broker."""
    from kombu import Connection

    with Connection(broker) as connection:
        connection.default_channel.queue_delete(queue)
