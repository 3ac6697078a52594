"""A reconstructable ingest job for Celery tests: workers rebuild it by this module's path, in their own
environment (their SKILLATLAS_* variables choose warehouse, inbox and data dir)."""

import dagster as dg


def ingest_batch_job() -> dg.JobDefinition:
    from definitions import build_definitions

    return build_definitions().resolve_job_def("ingest_batch_job")
