"""The step executor per environment: the one place that picks where document steps run.

SKILLATLAS_EXECUTOR unset (or `multiprocess`): Dagster's default executor, each step in a subprocess of the run
worker; `make run`, `make ui` and the embedded default need no broker. `in_process`: every step in the run worker.
`celery`: each step becomes a Celery task on a broker (dagster-celery), executed by `celery worker` processes on
this or other machines, so the batches of several runs extract at once (one run per upload batch). Workers run
`workers.celery_app` with the same SKILLATLAS_CELERY_* variables (see deploy/celery/ and README "Workers").

Broker and backend URLs are read through env sources, so a broker password never lands in run config or the UI.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import dagster as dg

EXECUTORS = ("multiprocess", "in_process", "celery")
DEFAULT_BROKER = "pyamqp://guest:guest@127.0.0.1:5672//"
DEFAULT_BACKEND = "rpc://"
DEFAULT_QUEUE = "dagster"


@dataclass(frozen=True)
class CelerySettings:
    broker: str
    backend: str
    queue: str

    def app_config(self) -> dict[str, object]:
        """Celery settings shared by the executor (which submits) and the workers (which execute).

        - acks_late + reject_on_worker_lost: a step's message is acknowledged only when the step has finished,
          so a worker killed mid-step (SIGKILL, lost node, OOM) gives the message back to the broker and
          another worker runs the step again. Steps are idempotent (a batch's rows are replaced, never appended).
        - prefetch 1: a busy worker does not hoard the next batches' steps while idle workers wait.
        - task_default_queue: the queue the executor submits to and the workers consume (`-Q`)."""
        return {
            "task_acks_late": True,
            "task_reject_on_worker_lost": True,
            "worker_prefetch_multiplier": 1,
            "task_default_queue": self.queue,
            "broker_connection_retry_on_startup": True,
        }


def executor_mode() -> str:
    mode = os.environ.get("SKILLATLAS_EXECUTOR", "").strip().lower() or "multiprocess"
    if mode not in EXECUTORS:
        raise ValueError(f"SKILLATLAS_EXECUTOR={mode!r} is not one of {', '.join(EXECUTORS)}")
    return mode


def celery_settings() -> CelerySettings:
    return CelerySettings(
        broker=os.environ.get("SKILLATLAS_CELERY_BROKER") or DEFAULT_BROKER,
        backend=os.environ.get("SKILLATLAS_CELERY_BACKEND") or DEFAULT_BACKEND,
        queue=os.environ.get("SKILLATLAS_CELERY_QUEUE") or DEFAULT_QUEUE,
    )


def build_executor() -> dg.ExecutorDefinition | None:
    """The executor of every job of the code location, or None for Dagster's default (multiprocess)."""
    mode = executor_mode()
    if mode == "multiprocess":
        return None
    if mode == "in_process":
        return dg.in_process_executor
    from dagster_celery import celery_executor  # only production deployments with a broker need it

    settings = celery_settings()
    config: dict[str, object] = {
        # env sources: resolved in the run worker from its environment, never stored in run config
        "broker": _env_or("SKILLATLAS_CELERY_BROKER", DEFAULT_BROKER),
        "backend": _env_or("SKILLATLAS_CELERY_BACKEND", DEFAULT_BACKEND),
        "config_source": settings.app_config(),
    }
    return celery_executor.configured(config, name="celery")


def _env_or(name: str, default: str) -> dict[str, str] | str:
    return {"env": name} if os.environ.get(name) else default
