from sensors.inbox import build_inbox_sensor
from sensors.llm_batch import llm_batch_sensor
from sensors.run_failures import run_failure_sensor

inbox_sensor = build_inbox_sensor("ingest_batch_job")

ALL_SENSORS = [inbox_sensor, run_failure_sensor, llm_batch_sensor]
