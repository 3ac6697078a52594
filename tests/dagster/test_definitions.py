"""The whole code location loads, and wires what operators rely on."""

import dagster as dg
import pytest

from definitions import defs

EXPECTED_ASSETS = {
    "skill_taxonomy",
    "taxonomy_vectors",
    "onet_occupations",
    "onet_text_skills",
    "document_text",
    "document_skills",
    "soc_skill_map",
    "course_occupation_scores",
    "course_job_scores",
    "job_occupation_scores",
    "search_index",
    "skill_demand_daily",
    "skill_demand_trends",
    "pipeline_health",
}


def test_definitions_load_and_validate() -> None:
    dg.Definitions.validate_loadable(defs)


def test_all_assets_present_with_descriptions() -> None:
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert EXPECTED_ASSETS <= keys
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.description and len(node.description) > 40, f"{key} needs a docstring saying what the data is"


@pytest.mark.parametrize(
    "job_name",
    [
        "reference_job",
        "ingest_batch_job",
        "rebuild_scores_job",
        "rebuild_index_job",
        "trends_daily_job",
        "trends_job",
        "health_job",
        "cleanup_job",
    ],
)
def test_jobs_resolve_and_carry_a_queue_tag(job_name: str) -> None:
    job = defs.resolve_job_def(job_name)
    assert job.run_tags.get("skillatlas/queue") or job.tags.get("skillatlas/queue")


def test_job_selections() -> None:
    ingest = {k.to_user_string() for k in defs.resolve_job_def("ingest_batch_job").asset_layer.executable_asset_keys}
    assert ingest == {"document_text", "document_skills"}
    scores = {k.to_user_string() for k in defs.resolve_job_def("rebuild_scores_job").asset_layer.executable_asset_keys}
    assert {"soc_skill_map", "course_occupation_scores", "course_job_scores", "job_occupation_scores",
            "search_index"} <= scores
    assert "document_text" not in scores
    # one batch per run: the hour is a backstop; the stuck-run sensor watches progress
    assert defs.resolve_job_def("ingest_batch_job").run_tags["dagster/max_runtime"] == "3600"


def test_triggers_run_by_default() -> None:
    schedules = {s.name: s for s in defs.schedules}
    assert {
        "nightly_scores_schedule",
        "hourly_trends_schedule",
        "weekly_cleanup_schedule",
        "monthly_reference_schedule",
    } <= set(schedules)
    assert schedules["nightly_scores_schedule"].cron_schedule == "0 2 * * *"
    for schedule in schedules.values():
        assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    sensors = {s.name: s for s in defs.sensors}
    for name in (
        "inbox_sensor", "run_failure_sensor", "stuck_run_sensor", "default_automation_sensor",
        "document_automation_sensor",
    ):
        assert sensors[name].default_status == dg.DefaultSensorStatus.RUNNING
    # automation runs of document assets join the ingest queue like every other document run
    assert sensors["document_automation_sensor"].run_tags["skillatlas/queue"] == "ingest"


def test_partitioned_assets_batch_backfills() -> None:
    graph = defs.resolve_asset_graph()
    for name in ("document_text", "document_skills"):
        node = graph.get(dg.AssetKey(name))
        # the upload batch is the unit of work: one batch per backfill run
        assert node.backfill_policy is not None and node.backfill_policy.max_partitions_per_run == 1
    from assets.documents import document_skills, document_text

    for asset in (document_text, document_skills):
        policy = asset.op.retry_policy
        assert policy.backoff == dg.Backoff.EXPONENTIAL and 1 <= policy.max_retries <= 3


def test_no_secret_in_resource_config(monkeypatch: pytest.MonkeyPatch) -> None:
    from resources import build_resources
    from resources.settings import load_settings

    monkeypatch.setenv("SKILLATLAS_EXTRACTOR", "openai")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-secret-value")
    resources = build_resources(load_settings())
    assert "sk-test-secret-value" not in repr(resources)


def test_bad_settings_give_specific_messages(monkeypatch: pytest.MonkeyPatch) -> None:
    from resources.settings import load_settings

    monkeypatch.setenv("SKILLATLAS_ENV", "staging")
    with pytest.raises(ValueError, match="SKILLATLAS_ENV='staging' is not one of embedded, production"):
        load_settings()
    monkeypatch.setenv("SKILLATLAS_ENV", "production")
    monkeypatch.delenv("SKILLATLAS_WAREHOUSE_URL", raising=False)
    with pytest.raises(ValueError, match="needs SKILLATLAS_WAREHOUSE_URL"):
        load_settings()
    monkeypatch.setenv("SKILLATLAS_ENV", "embedded")
    monkeypatch.setenv("SKILLATLAS_BATCH_SIZE", "500")
    with pytest.raises(ValueError, match=r"SKILLATLAS_BATCH_SIZE=500 is out of range \[1, 100\]"):
        load_settings()
    monkeypatch.setenv("SKILLATLAS_BATCH_SIZE", "ten")
    with pytest.raises(ValueError, match="SKILLATLAS_BATCH_SIZE='ten' is not an integer"):
        load_settings()


def test_health_runs_jump_the_ingest_queue() -> None:
    """A queued health run is launched before earlier-queued ingest runs (the run queue orders by priority)."""
    from jobs import health_job, ingest_batch_job

    assert int(health_job.tags["dagster/priority"]) > int(ingest_batch_job.tags.get("dagster/priority", "0"))
