from sensors.inbox import build_inbox_sensor
from sensors.run_failures import run_failure_sensor, run_recovery_sensor
from sensors.stuck_runs import stuck_run_sensor

inbox_sensor = build_inbox_sensor("ingest_batch_job")

ALL_SENSORS = [inbox_sensor, run_failure_sensor, run_recovery_sensor, stuck_run_sensor]
