"""Runs submitted through the instance for the workspace's code location, as the UI and the daemon do.

`make run` uses this instead of `execute_in_process`: its runs carry a code-location origin, so the job pages
and the timeline list them, run retries and the run-failure sensor see them, and run monitoring treats them
like any other run. A `dagster-daemon` started here dequeues and launches them (and evaluates the sensors);
`dagster job launch` submits each run to the instance's queue.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import dagster as dg

REPO_ROOT = Path(__file__).resolve().parents[1]
WORKSPACE = REPO_ROOT / "workspace.yaml"
BIN = Path(sys.executable).parent
TERMINAL = {
    dg.DagsterRunStatus.SUCCESS,
    dg.DagsterRunStatus.FAILURE,
    dg.DagsterRunStatus.CANCELED,
}


def _default_signals() -> None:
    # A daemon started from a script inherits ignored SIGINT/SIGTERM (DAGSTER_FACTS); restore the defaults.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


class Daemon:
    """A `dagster-daemon run` for the workspace, in its own session (a Ctrl-C on the caller reaches only the
    caller, which then cancels its runs and stops the daemon in order)."""

    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Daemon:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [str(BIN / "dagster-daemon"), "run", "-w", str(WORKSPACE)],
            cwd=REPO_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_default_signals,  # noqa: PLW1509 - only resets signal dispositions
            start_new_session=True,
        )
        log.close()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def launch(job_name: str, tags: Mapping[str, str] | None = None) -> str:
    """Submit one run of `job_name` to the instance's queue; returns its run id."""
    run_id = str(uuid.uuid4())
    command = [
        str(BIN / "dagster"),
        "job",
        "launch",
        "-w",
        str(WORKSPACE),
        "-j",
        job_name,
        "--run-id",
        run_id,
        "--tags",
        json.dumps(dict(tags or {})),
    ]
    completed = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, env=os.environ.copy())
    if completed.returncode != 0:
        raise RuntimeError(f"could not launch {job_name}: {completed.stderr.strip()[-2000:]}")
    return run_id


def wait_for_runs(
    instance: dg.DagsterInstance,
    run_ids: Iterable[str],
    *,
    on_event: Callable[[dg.DagsterRun, dg.EventLogEntry], None] | None = None,
    poll_seconds: float = 1.0,
) -> dict[str, dg.DagsterRun]:
    """Wait until every run has ended, passing each new event of each run to `on_event` as it arrives."""
    pending = list(run_ids)
    cursors: dict[str, str | None] = dict.fromkeys(pending)
    finished: dict[str, dg.DagsterRun] = {}
    while pending:
        for run_id in list(pending):
            run = instance.get_run_by_id(run_id)
            if run is None:
                continue  # submitted, not yet visible
            if on_event is not None:
                connection = instance.get_records_for_run(run_id, cursor=cursors[run_id])
                for record in connection.records:
                    on_event(run, record.event_log_entry)
                cursors[run_id] = connection.cursor
            if run.status in TERMINAL:
                finished[run_id] = run
                pending.remove(run_id)
        if pending:
            time.sleep(poll_seconds)
    return finished


def cancel_runs(instance: dg.DagsterInstance, run_ids: Iterable[str]) -> None:
    """Cancel queued runs and terminate started ones (the run worker stops between documents)."""
    for run_id in run_ids:
        run = instance.get_run_by_id(run_id)
        if run is not None and run.status not in TERMINAL:
            instance.run_coordinator.cancel_run(run_id)
