"""What the polling sensors share: running by default, evaluated every minute unless told otherwise."""

from typing import Any

import dagster as dg


def polling_sensor(name: str, description: str, *, every_seconds: int = 60, **sensor_args: Any) -> Any:
    """The `@dg.sensor` decorator of a sensor that runs by default and is evaluated every `every_seconds`."""
    return dg.sensor(
        name=name,
        minimum_interval_seconds=every_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=description,
        **sensor_args,
    )
