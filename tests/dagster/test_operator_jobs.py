"""Operator jobs: re-extract, retry failed items, roll back an extraction, undo a skill merge."""

from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
import sqlalchemy as sa

from jobs.reextract import reextract_job
from jobs.retry_failed import retry_failed_items_job
from jobs.rollback import rollback_extraction_job
from jobs.undo_merge import undo_skill_merge_job
from skillatlas.store.tables import DOCUMENT_SKILLS, DOCUMENT_TEXT, ITEM_FAILURES
from tests.conftest import make_resources
from tests.support.documents import ASSETS, register


def ingest(instance: dg.DagsterInstance, resources: dict) -> tuple[list[str], list[str]]:
    keys = register(instance, resources)
    run_ids = []
    for key in keys:
        result = dg.materialize(ASSETS, resources=resources, instance=instance, partition_key=key)
        assert result.success
        run_ids.append(result.run_id)
    return keys, run_ids


def run(
    job: dg.JobDefinition, instance: dg.DagsterInstance, resources: dict, config: dict
) -> dg.ExecuteInProcessResult:
    op_name = job.graph.node_defs[0].name
    return job.execute_in_process(
        run_config={"ops": {op_name: {"config": config}}}, instance=instance, resources=resources
    )


def output(result: dg.ExecuteInProcessResult) -> dict:
    """The op's summary: the metadata of its (Nothing) output."""
    (event,) = [e for e in result.all_node_events if e.is_successful_output]
    metadata = event.step_output_data.metadata
    return {k: v.value for k, v in metadata.items() if k != "per_batch"}


def materialized_partitions(result: dg.ExecuteInProcessResult, asset: str) -> list[str | None]:
    return [
        m.partition for m in result.asset_materializations_for_node(result.job_def.graph.node_defs[0].name)
        if m.asset_key == dg.AssetKey(asset)
    ]


def set_version(resources: dict, batch_id: str, version: str) -> None:
    engine = resources["warehouse"].engine
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE document_skills SET extractor_version = :v WHERE batch_id = :b"),
                     {"v": version, "b": batch_id})


def test_all_operator_jobs_are_in_the_code_location() -> None:
    from definitions import defs

    for name in ("reextract_job", "retry_failed_items_job", "rollback_extraction_job", "undo_skill_merge_job"):
        job = defs.resolve_job_def(name)
        assert job.tags.get("skillatlas/queue")


def test_reextract_skips_current_documents_and_reextracts_stale_ones(
    data_dir: Path, small_inbox: Path, instance: dg.DagsterInstance
) -> None:
    resources = make_resources(data_dir, small_inbox, batch_size=5)
    keys, _ = ingest(instance, resources)
    warehouse = resources["warehouse"]
    before = warehouse.read_table(DOCUMENT_SKILLS)

    # nothing is stale: everything is skipped
    out = output(run(reextract_job, instance, resources, {}))
    assert out["documents_selected"] == 0 and out["documents_skipped_current"] == 10

    # batch 0 was extracted by an "old" extractor: only its documents are re-extracted
    set_version(resources, keys[0], "old-extractor@0")
    dry = run(reextract_job, instance, resources, {"dry_run": True})
    out = output(dry)
    n_docs = warehouse.read_table(DOCUMENT_TEXT, {"batch_id": keys[0]})["doc_id"].nunique()
    docs_with_rows = before[before["batch_id"] == keys[0]]["doc_id"].nunique()
    assert out["dry_run"] and out["documents_selected"] == n_docs
    assert out["documents_changed"] == docs_with_rows  # the version column differs for every document with rows
    assert materialized_partitions(dry, "document_skills") == []
    assert set(warehouse.read_table(DOCUMENT_SKILLS, {"batch_id": keys[0]})["extractor_version"]) == {
        "old-extractor@0"
    }
    assert warehouse.read_table("document_skills_history").empty

    real = run(reextract_job, instance, resources, {})
    out = output(real)
    assert out["documents_selected"] == n_docs and out["rows_after"] == out["rows_before"]
    assert materialized_partitions(real, "document_skills") == [keys[0]]
    after = warehouse.read_table(DOCUMENT_SKILLS)
    assert len(after) == len(before) and "old-extractor@0" not in set(after["extractor_version"])
    history = warehouse.read_table("document_skills_history")
    assert set(history["batch_id"]) == {keys[0]} and set(history["extractor_version"]) == {"old-extractor@0"}
    assert set(history["archived_by_run"]) == {real.run_id}
    events = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey("document_skills"), asset_partitions=[keys[0]]), limit=10
    ).records
    assert any(e.run_id == real.run_id for e in events)


def test_reextract_force_limit_and_kind_filters(
    data_dir: Path, small_inbox: Path, instance: dg.DagsterInstance
) -> None:
    resources = make_resources(data_dir, small_inbox)
    (key,), _ = ingest(instance, resources)
    before = resources["warehouse"].read_table(DOCUMENT_SKILLS)
    out = output(run(reextract_job, instance, resources, {"force": True, "limit": 3}))
    assert out["documents_selected"] == 3 and out["documents_changed"] == 0
    out = output(run(reextract_job, instance, resources, {"force": True, "kinds": ["course"], "batch_ids": [key]}))
    assert out["documents_selected"] == 4 and out["documents_changed"] == 0
    after = resources["warehouse"].read_table(DOCUMENT_SKILLS)
    cols = ["doc_id", "skill_id", "confidence", "evidence_start"]
    pd.testing.assert_frame_equal(
        before[cols].sort_values(cols).reset_index(drop=True), after[cols].sort_values(cols).reset_index(drop=True)
    )


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"limit": 0}, "limit must be >= 1"),
        ({"kinds": ["memo"]}, r"unknown document kind\(s\) \['memo'\]"),
        ({"batch_ids": ["../etc"]}, "bad batch id: partition key"),
        ({"batch_ids": ["b-never-ingested"]}, "have no documents in document_text"),
    ],
)
def test_reextract_config_is_validated(
    data_dir: Path, small_inbox: Path, instance: dg.DagsterInstance, config: dict, message: str
) -> None:
    resources = make_resources(data_dir, small_inbox)
    ingest(instance, resources)
    with pytest.raises(dg.Failure, match=message):
        run(reextract_job, instance, resources, config)


def test_retry_failed_items_recovers_fixed_files_only(
    data_dir: Path, small_inbox: Path, instance: dg.DagsterInstance
) -> None:
    (small_inbox / "jobs" / "empty.txt").write_bytes(b"")
    (small_inbox / "courses" / "binary.txt").write_bytes(bytes(range(256)) * 40)
    resources = make_resources(data_dir, small_inbox)
    (key,), (run_id,) = ingest(instance, resources)
    warehouse = resources["warehouse"]
    assert len(warehouse.read_table(ITEM_FAILURES)) == 2
    # the operator fixes one file in place (same path), the other stays broken
    (small_inbox / "jobs" / "empty.txt").write_text(
        "Data Analyst\nPosted: 2026-09-10\nWe need SQL, Python and data visualization skills.\n"
    )
    result = run(retry_failed_items_job, instance, resources, {"run_ids": [run_id]})
    assert output(result) == {"processed": 2, "succeeded": 1, "still_failed": 1, "partitions": 1}
    assert materialized_partitions(result, "document_text") == [key]
    assert materialized_partitions(result, "document_skills") == [key]

    text = warehouse.read_table(DOCUMENT_TEXT)
    assert len(text) == 11 and not text["doc_id"].duplicated().any()
    fixed = text[text["relpath"] == "jobs/empty.txt"].iloc[0]
    skills = warehouse.read_table(DOCUMENT_SKILLS, {"doc_id": fixed["doc_id"]})
    assert len(skills) > 0 and set(skills["batch_id"]) == {key}
    ledger = warehouse.read_table(ITEM_FAILURES)
    assert list(ledger["item"]) == ["courses/binary.txt"]
    assert int(ledger["attempts"].iloc[0]) == 2 and ledger["run_id"].iloc[0] == result.run_id

    # retrying the same partition again only touches the still-open item; the recovered one stays single
    out = output(run(retry_failed_items_job, instance, resources, {"partitions": [key], "asset": "document_text"}))
    assert out == {"processed": 1, "succeeded": 0, "still_failed": 1, "partitions": 1}
    assert int(warehouse.read_table(ITEM_FAILURES)["attempts"].iloc[0]) == 3
    assert len(warehouse.read_table(DOCUMENT_TEXT)) == 11


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({}, "give run_ids and/or partitions"),
        ({"run_ids": ["0000-not-a-run"]}, r"unknown run id\(s\) \['0000-not-a-run'\]"),
        ({"partitions": ["bad key!"]}, "bad partition key"),
        ({"partitions": ["b1"], "asset": "search_index"}, "cannot be retried"),
    ],
)
def test_retry_config_is_validated(
    data_dir: Path, small_inbox: Path, instance: dg.DagsterInstance, config: dict, message: str
) -> None:
    resources = make_resources(data_dir, small_inbox)
    with pytest.raises(dg.Failure, match=message):
        run(retry_failed_items_job, instance, resources, config)


def test_rollback_restores_the_previous_extraction(
    data_dir: Path, small_inbox: Path, instance: dg.DagsterInstance
) -> None:
    resources = make_resources(data_dir, small_inbox)
    (key,), _ = ingest(instance, resources)
    warehouse = resources["warehouse"]
    with pytest.raises(dg.Failure, match=f"batch {key} has no archived extraction"):
        run(rollback_extraction_job, instance, resources, {"batch_id": key})

    original = warehouse.read_table(DOCUMENT_SKILLS)
    run(reextract_job, instance, resources, {"force": True})  # archives the original rows
    # a bad extraction replaces the batch: half its rows vanish
    with warehouse.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM document_skills WHERE confidence < 0.9"))
    damaged = warehouse.read_table(DOCUMENT_SKILLS)
    assert 0 < len(damaged) < len(original)

    result = run(rollback_extraction_job, instance, resources, {"batch_id": key})
    out = output(result)
    assert out["rows_restored"] == len(original) and out["rows_before"] == len(damaged)
    assert materialized_partitions(result, "document_skills") == [key]
    restored = warehouse.read_table(DOCUMENT_SKILLS)
    cols = list(original.columns)
    pd.testing.assert_frame_equal(
        original.sort_values(["doc_id", "skill_id"]).reset_index(drop=True),
        restored[cols].sort_values(["doc_id", "skill_id"]).reset_index(drop=True),
    )
    # the damaged version was archived by the rollback, so the rollback can itself be undone
    history = warehouse.read_table("document_skills_history")
    assert (history["archived_by_run"] == result.run_id).sum() == len(damaged)
    again = output(run(rollback_extraction_job, instance, resources, {"batch_id": key}))
    assert again["rows_restored"] == len(damaged)

    with pytest.raises(dg.Failure, match="has no archive by run 'nope'"):
        run(rollback_extraction_job, instance, resources, {"batch_id": key, "archived_by_run": "nope"})
    with pytest.raises(dg.Failure, match="bad batch id"):
        run(rollback_extraction_job, instance, resources, {"batch_id": "x'; drop table t; --"})


def test_undo_skill_merge(data_dir: Path, small_inbox: Path, instance: dg.DagsterInstance) -> None:
    resources = make_resources(data_dir, small_inbox)
    with pytest.raises(dg.Failure, match="'skill_merge_map' is missing or empty"):
        run(undo_skill_merge_job, instance, resources, {"skill_id": "onet:python"})
    merge_map = pd.DataFrame(
        {
            "skill_id": ["esco:py", "onet:python", "esco:sql", "onet:sql"],
            "canonical_id": ["esco:py", "esco:py", "esco:sql", "esco:sql"],
            "similarity": [1.0, 0.97, 1.0, 0.96],
            "cluster_id": [0, 0, 1, 1],
            "label": ["Python", "Python (programming)", "SQL", "SQL language"],
            "canonical_label": ["Python", "Python", "SQL", "SQL"],
            "valid_from": ["2026-09-01T00:00:00+00:00"] * 4,
            "undone_at": [None] * 4,
        }
    )
    warehouse = resources["warehouse"]
    warehouse.replace_rows("skill_merge_map", merge_map, {})
    result = run(undo_skill_merge_job, instance, resources, {"skill_id": "onet:python"})
    assert output(result)["rows_undone"] == 2  # the member and the now lonely canonical row
    stored = warehouse.read_table("skill_merge_map").set_index("skill_id")
    assert len(stored) == 4
    assert stored.loc["onet:python", "undone_at"] and stored.loc["esco:py", "undone_at"]
    assert pd.isna(stored.loc["onet:sql", "undone_at"])
    assert materialized_partitions(result, "skill_merge_map") == [None]
    with pytest.raises(dg.Failure, match="skill 'onet:python' is not merged: its merge was already undone"):
        run(undo_skill_merge_job, instance, resources, {"skill_id": "onet:python"})
    with pytest.raises(dg.Failure, match="skill 'onet:rust' is not merged: it is not in the merge map"):
        run(undo_skill_merge_job, instance, resources, {"skill_id": "onet:rust"})
