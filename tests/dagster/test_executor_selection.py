"""The executor is chosen by SKILLATLAS_EXECUTOR in one place; the embedded default needs no broker."""

import dagster as dg
import pytest

from resources.executor import build_executor, celery_settings


def test_default_is_daggers_multiprocess_executor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SKILLATLAS_EXECUTOR", raising=False)
    assert build_executor() is None  # Definitions then use Dagster's default (multiprocess) executor
    monkeypatch.setenv("SKILLATLAS_EXECUTOR", "in_process")
    assert build_executor() is dg.in_process_executor


def test_celery_executor_reads_broker_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SKILLATLAS_EXECUTOR", "celery")
    monkeypatch.setenv("SKILLATLAS_CELERY_BROKER", "pyamqp://user:secret@broker:5672//")
    monkeypatch.setenv("SKILLATLAS_CELERY_QUEUE", "skillatlas_x")
    executor = build_executor()
    assert executor is not None and executor.name == "celery"
    from definitions import build_definitions

    job = build_definitions().resolve_job_def("ingest_batch_job")
    assert job.executor_def.name == "celery"
    settings = celery_settings()
    assert settings.queue == "skillatlas_x"
    config = settings.app_config()
    # a worker killed mid-step must hand the step back to the broker
    assert config["task_acks_late"] and config["task_reject_on_worker_lost"]
    assert config["worker_prefetch_multiplier"] == 1 and config["task_default_queue"] == "skillatlas_x"
    assert "secret" not in repr(executor.config_schema)  # the password stays in the environment


def test_unknown_executor_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SKILLATLAS_EXECUTOR", "k8s")
    with pytest.raises(ValueError, match="SKILLATLAS_EXECUTOR"):
        build_executor()
