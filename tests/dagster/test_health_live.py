"""Health is computed from run storage when it is read: never a stale snapshot (issue 13)."""

import argparse
import io
import json
from pathlib import Path

import dagster as dg
import pytest

from assets import health as health_assets
from assets.health_cli import register
from tests.conftest import make_resources


@dg.op
def fine() -> None:
    return None


@dg.op
def broken() -> None:
    raise RuntimeError("disk on fire")


@dg.job(tags={"skillatlas/queue": "ingest"})
def good_job() -> None:
    fine()


@dg.job(tags={"skillatlas/queue": "ingest"})
def bad_job() -> None:
    broken()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh DAGSTER_HOME, set in the environment as the CLI reads it."""
    path = tmp_path / "home"
    path.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(path))
    return path


def health_cli(home: Path, warehouse: Path, *argv: str) -> dict:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="cmd"))
    args = parser.parse_args(
        ["health", "--json", "--dagster-home", str(home), "--warehouse-url", f"sqlite:///{warehouse}", *argv]
    )
    out = io.StringIO()
    assert args.func(args, out=out) == 0
    return json.loads(out.getvalue())


def test_cli_health_is_never_stale(tmp_path: Path, home: Path) -> None:
    with dg.instance_for_test(temp_dir=str(home)) as instance:
        assert good_job.execute_in_process(instance=instance).success
        first = health_cli(home, tmp_path / "none.sqlite", "--window", "1h")
        assert first["totals"]["runs"] == 1 and first["totals"]["failed"] == 0
        assert first["note"] and "does not exist yet" in first["note"]
        # something happens after the first read: the next read shows it, with a later "as of"
        assert not bad_job.execute_in_process(instance=instance, raise_on_error=False).success
        instance.create_run_for_job(
            good_job, status=dg.DagsterRunStatus.NOT_STARTED, tags={"skillatlas/queue": "ingest"}
        )
        second = health_cli(home, tmp_path / "none.sqlite", "--window", "1h")
    assert second["as_of"] >= first["as_of"]
    assert second["totals"]["runs"] == 2 and second["totals"]["failed"] == 1
    assert second["totals"]["failure_rate"] == 0.5
    jobs = {j["job_name"]: j for j in second["jobs"]}
    assert jobs["bad_job"]["failed"] == 1 and jobs["good_job"]["queued"] == 1
    assert second["queues"] == [
        {**second["queues"][0], "queue": "ingest", "queued": 1, "running": 0}
    ] and second["queues"][0]["oldest_queued_run_id"]


def test_cli_health_text_says_as_of(tmp_path: Path, home: Path) -> None:
    with dg.instance_for_test(temp_dir=str(home)) as instance:
        assert good_job.execute_in_process(instance=instance).success
        parser = argparse.ArgumentParser()
        register(parser.add_subparsers(dest="cmd"))
        args = parser.parse_args(["health", "--dagster-home", str(home), "--warehouse-url",
                                  f"sqlite:///{tmp_path / 'none.sqlite'}"])
        out = io.StringIO()
        assert args.func(args, out=out) == 0
    text = out.getvalue()
    assert text.startswith("pipeline health as of ") and "UTC (live from run storage)" in text
    assert any(line.split()[:4] == ["good_job", "1", "1", "0"] for line in text.splitlines())


def test_cli_health_without_instance(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="cmd"))
    args = parser.parse_args(["health", "--dagster-home", str(tmp_path / "missing")])
    assert args.func(args, out=io.StringIO()) == 1
    assert "no Dagster instance" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parser.parse_args(["health", "--window", "2y"])


def test_pipeline_health_asset_metadata_is_numeric_and_dated(
    tmp_path: Path, small_inbox: Path, instance: dg.DagsterInstance
) -> None:
    assert not bad_job.execute_in_process(instance=instance, raise_on_error=False).success
    resources = make_resources(tmp_path / "d", small_inbox)
    result = dg.materialize([health_assets.pipeline_health], resources=resources, instance=instance)
    assert result.success
    metadata = result.asset_materializations_for_node("pipeline_health")[0].metadata
    assert isinstance(metadata["as_of"], dg.TimestampMetadataValue)
    assert metadata["1h_failed"].value == 1 and metadata["24h_failure_rate"].value == 1.0
    assert isinstance(metadata["7d_p95_run_time_s"].value, float)
    assert isinstance(metadata["7d_p95_queue_wait_s"].value, float)
    assert "bad_job" in metadata["jobs_24h"].value and "as of" in metadata["jobs_24h"].value
    table = resources["warehouse"].read_table("pipeline_health")
    assert {"window", "job_name", "failure_rate", "as_of"} <= set(table.columns)


def test_health_is_materialised_often_on_its_own_queue() -> None:
    from definitions import defs
    from schedules import health_schedule

    assert health_schedule.cron_schedule == "*/5 * * * *" and health_schedule.job_name == "health_job"
    job = defs.resolve_job_def("health_job")
    assert job.run_tags["skillatlas/queue"] == "health"  # no concurrency limit: never waits behind reference runs
    keys = {k.to_user_string() for k in job.asset_layer.executable_asset_keys}
    assert keys == {"pipeline_health", "failed_items"}
