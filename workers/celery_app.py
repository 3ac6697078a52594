"""The Celery app of skillatlas workers: `celery -A workers.celery_app worker -Q <queue>`.

dagster-celery's own `dagster_celery.app` reads its broker from DAGSTER_CELERY_BROKER_HOST and registers the
step task without late acknowledgement: a worker killed mid-step would lose the step (the message is acked on
receipt) and the run would wait for a result that never comes. This app registers the same task
(`execute_plan`, by name, so the executor's messages land here) with the settings of
`resources.executor.CelerySettings.app_config` (acks_late, reject_on_worker_lost, prefetch 1) and the broker,
backend and queue of the SKILLATLAS_CELERY_* variables, the same ones the executor reads.

A worker executes steps with its own environment: it loads the code location from the path in the step's
origin and builds resources from its own SKILLATLAS_* variables (warehouse URL, inbox, data dir), and it
reaches the run's instance through the instance ref in the task (DAGSTER_HOME is not needed on the worker
when the instance storage is PostgreSQL).
"""

from __future__ import annotations

import warnings

import dagster as dg
from dagster_celery.make_app import make_app_with_task_routes
from dagster_celery.tasks import create_task

from resources.executor import celery_settings

warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.PreviewWarning)

settings = celery_settings()
app = make_app_with_task_routes(
    task_routes={"execute_plan": {"queue": settings.queue, "routing_key": f"{settings.queue}.execute_plan"}},
    app_args={"broker": settings.broker, "backend": settings.backend},
)
app.conf.update(settings.app_config())
execute_plan = create_task(app, acks_late=True, reject_on_worker_lost=True)
