"""The step executor per environment: the one place that picks where document steps run.

SKILLATLAS_EXECUTOR unset (or `multiprocess`): Dagster's default executor, each step in a subprocess of the run
worker; `make run`, `make ui` and the embedded default need no broker. `in_process`: every step in the run worker.
`celery`: each step becomes a Celery task on a broker (dagster-celery), executed by `celery worker` processes on
this or other machines, so the batches of several runs extract at once (one run per upload batch). Workers run
`workers.celery_app` with the same SKILLATLAS_CELERY_* variables (see deploy/celery/ and README "Workers").

Broker and backend URLs are read through env sources, so a broker password never lands in run config or the UI.
"""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg

from skillatlas.settings import Settings, env_name, load_settings

EXECUTORS = ("multiprocess", "in_process", "celery")
DEFAULT_BROKER: str = Settings.model_fields["celery_broker"].default
DEFAULT_BACKEND: str = Settings.model_fields["celery_backend"].default
DEFAULT_QUEUE: str = Settings.model_fields["celery_queue"].default


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
    return load_settings().executor


def celery_settings() -> CelerySettings:
    knobs = load_settings()
    return CelerySettings(broker=knobs.celery_broker, backend=knobs.celery_backend, queue=knobs.celery_queue)


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
        "broker": _env_or("celery_broker", settings.broker),
        "backend": _env_or("celery_backend", settings.backend),
        "config_source": settings.app_config(),
    }
    return celery_executor.configured(config, name="celery")


def _env_or(field: str, value: str) -> dict[str, str] | str:
    """A value set in the environment goes to the executor as an env source (its password stays there)."""
    return {"env": env_name(field)} if value != Settings.model_fields[field].default else value
