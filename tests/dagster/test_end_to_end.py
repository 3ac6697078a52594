"""The whole sample corpus, through the inbox sensor and the jobs, on a temporary instance — twice, to show
that a second run processes nothing twice and leaves every table the same size."""


import dagster as dg
import pytest

from jobs.pipeline_run import run_pipeline
from jobs.summary import summary_lines
from skillatlas.store.tables import (
    COURSE_OCCUPATION_SCORES,
    DOCUMENT_SKILLS,
    DOCUMENT_TEXT,
    ITEM_FAILURES,
    SKILL_DEMAND_DAILY,
    UPLOAD_MANIFEST,
)
from tests.conftest import SAMPLE_INBOX

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pipeline(sample_pipeline):
    return sample_pipeline


def test_pipeline_succeeds_and_records_the_bad_file(pipeline) -> None:
    _, _, warehouse, ok, inbox = pipeline
    assert ok
    text = warehouse.read_table(DOCUMENT_TEXT)
    sample_count = sum(1 for f in SAMPLE_INBOX.rglob("*") if f.is_file())
    assert len(text) == sample_count  # every good file parsed
    assert text["doc_id"].is_unique
    ledger = warehouse.read_table(ITEM_FAILURES)
    assert ledger[["item", "error_kind"]].values.tolist() == [["jobs/broken.pdf", "invalid_format"]]


def test_skills_found_in_every_document_kind(pipeline) -> None:
    _, _, warehouse, _, _ = pipeline
    skills = warehouse.read_table(DOCUMENT_SKILLS)
    text = warehouse.read_table(DOCUMENT_TEXT)
    per_doc = skills.groupby("doc_id").size()
    assert per_doc.reindex(text["doc_id"]).fillna(0).gt(0).mean() > 0.9
    assert set(skills["method"]) >= {"phrase"}
    python_course = text[text["text"].str.contains("Python") & (text["kind"] == "course")]["doc_id"]
    found = skills[skills["doc_id"].isin(python_course)]["label"].str.lower()
    assert found.str.contains("python").any()


def test_every_course_scored_with_explanations(pipeline) -> None:
    _, _, warehouse, _, _ = pipeline
    scores = warehouse.read_table(COURSE_OCCUPATION_SCORES)
    text = warehouse.read_table(DOCUMENT_TEXT)
    skills = warehouse.read_table(DOCUMENT_SKILLS, {"kind": "course"})
    courses = set(text.loc[text["kind"] == "course", "doc_id"])
    with_skills = set(skills["doc_id"])
    assert len(with_skills) >= 0.9 * len(courses)  # phrase matching alone in this test
    assert set(scores["course_id"]) == with_skills
    assert scores["score"].between(0, 1).all()
    assert scores.groupby("course_id").size().max() <= 200
    assert set(scores["tier"]) <= {"A", "B", "C"}
    top = scores[scores["rank"] == 1]
    assert (top["shared_skills"].str.len() > 0).all()
    soc = warehouse.read_table("soc_skill_map")
    assert soc["soc_code"].nunique() >= 1000


def test_trends_and_health(pipeline) -> None:
    _, _, warehouse, _, _ = pipeline
    daily = warehouse.read_table(SKILL_DEMAND_DAILY)
    assert daily["day"].nunique() >= 30  # sample postings span 45 days
    assert (daily["postings"] > 0).all()
    health = warehouse.read_table("pipeline_health")
    assert {"ingest_batch_job", "rebuild_scores_job"} <= set(health["job_name"])
    assert (health["failed"] == 0).all()


def test_summary_names_courses_and_occupations(pipeline) -> None:
    _, _, warehouse, _, _ = pipeline
    lines = summary_lines(warehouse)
    assert any(line.startswith("documents: ") for line in lines)
    assert any("tier" in line for line in lines)


def test_second_run_is_idempotent(pipeline) -> None:
    defs, instance, warehouse, _, _ = pipeline
    tables = ["document_text", "document_skills", "course_occupation_scores", "upload_manifest", "skill_demand_daily"]
    before = {t: len(warehouse.read_table(t)) for t in tables}
    runs_before = len(instance.get_run_records(filters=dg.RunsFilter(job_name="ingest_batch_job")))
    assert run_pipeline(defs, instance, reference=False)
    after = {t: len(warehouse.read_table(t)) for t in tables}
    assert after == before
    # no new upload, so no new ingest run
    assert len(instance.get_run_records(filters=dg.RunsFilter(job_name="ingest_batch_job"))) == runs_before
    # every registered file is either parsed or in the ledger, exactly once
    manifest = warehouse.read_table(UPLOAD_MANIFEST)
    parsed = warehouse.read_table(DOCUMENT_TEXT)
    failed = warehouse.read_table(ITEM_FAILURES, {"asset": "document_text"})
    assert sorted(manifest["relpath"]) == sorted([*parsed["relpath"], *failed["item"]])


def test_asset_checks_pass_on_the_sample_corpus(pipeline) -> None:
    from assets.checks import ALL_CHECKS
    from resources.dagster_private import AssetCheckExecutionRecordStatus

    _, instance, _, _, _ = pipeline
    keys = [key for check in ALL_CHECKS for key in check.check_keys]
    latest = instance.event_log_storage.get_latest_asset_check_execution_by_key(keys)
    not_run = [k.name for k in keys if k not in latest]
    assert not not_run, f"checks never executed: {not_run}"
    failed = {k.name: r.status for k, r in latest.items() if r.status != AssetCheckExecutionRecordStatus.SUCCEEDED}
    assert not failed


def test_cli_search_and_match_answer_on_the_built_data(pipeline, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    import json

    from skillatlas.cli import main as cli

    _, _, warehouse, _, inbox = pipeline
    monkeypatch.setenv("SKILLATLAS_DATA_DIR", str(inbox.parent / "data"))
    assert cli(["search", "registered nurse patient care", "--kind", "occupation", "--json"]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert hits and all(h["kind"] == "occupation" for h in hits)
    assert any("Nurs" in h["title"] for h in hits[:5])

    course = warehouse.read_table(DOCUMENT_TEXT, {"kind": "course"}).iloc[0]
    assert cli(["match", course["doc_id"], "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["course_id"] == course["doc_id"]
    assert answer["matches"][0]["rank"] == 1 and answer["matches"][0]["title"]
    assert cli(["match", "doc-does-not-exist"]) == 1
