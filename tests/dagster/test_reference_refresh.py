"""Reference-refresh policy: offline re-extraction follows a taxonomy refresh, LLM re-extraction never does
unasked, and document_skills' automation ignores taxonomy updates."""

import dagster as dg

from assets import documents
from resources.extractor import ExtractorResource
from sensors.reference_refresh import reference_refresh_sensor


@dg.op
def noop() -> None:
    return None


@dg.job(name="reference_job")
def fake_reference_job() -> None:
    noop()


def success_context(instance: dg.DagsterInstance, mode: str) -> dg.RunStatusSensorContext:
    result = fake_reference_job.execute_in_process(instance=instance)
    event = next(e for e in result.all_events if e.event_type_value == "PIPELINE_SUCCESS")
    return dg.build_run_status_sensor_context(
        sensor_name="reference_refresh_sensor",
        dagster_instance=instance,
        dagster_run=instance.get_run_by_id(result.run_id),
        dagster_event=event,
        resources={"extractor": ExtractorResource(mode=mode, semantic=False)},
    )


def test_offline_refresh_requests_reextraction_once_per_run(instance: dg.DagsterInstance) -> None:
    context = success_context(instance, "offline")
    request = reference_refresh_sensor(context)
    assert isinstance(request, dg.RunRequest)
    assert request.run_key == f"reextract-after-reference:{context.dagster_run.run_id}"
    assert request.run_config in ({}, None)  # no force: only documents on an older extractor version


def test_llm_refresh_launches_nothing(instance: dg.DagsterInstance) -> None:
    for mode in ("openai", "cascade"):
        skip = reference_refresh_sensor(success_context(instance, mode))
        assert isinstance(skip, dg.SkipReason) and "launch reextract_job" in skip.skip_message


def test_document_skills_automation_ignores_taxonomy_updates() -> None:
    condition = documents.document_skills.automation_conditions_by_key[dg.AssetKey("document_skills")]
    label = str(condition)  # eager() alone names no asset
    assert "skill_taxonomy" in label and "taxonomy_vectors" in label
