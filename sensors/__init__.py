from jobs import ingest_batch_job, reference_job
from sensors.inbox import build_inbox_sensor
from sensors.llm_batch import llm_batch_sensor
from sensors.reference_refresh import reference_refresh_sensor
from sensors.run_failures import run_failure_sensor, run_recovery_sensor
from sensors.stuck_runs import stuck_run_sensor

inbox_sensor = build_inbox_sensor(ingest_batch_job, reference_job)

ALL_SENSORS = [
    inbox_sensor,
    run_failure_sensor,
    run_recovery_sensor,
    stuck_run_sensor,
    reference_refresh_sensor,
    llm_batch_sensor,
]
