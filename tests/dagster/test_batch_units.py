"""The upload batch as the unit of work: isolation, own metadata, resume, progress, interrupts, pools."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from assets import documents
from assets.partitions import partition_range_tags
from skillatlas.store.tables import BATCH_COMMITS, DOCUMENT_SKILLS, DOCUMENT_TEXT, UPLOAD_MANIFEST
from tests.conftest import make_resources
from tests.support.documents import ASSETS, register, registered


def materializations(instance: dg.DagsterInstance, run_id: str, asset: str) -> dict[str, dict[str, object]]:
    """partition -> metadata values of the run's materialisations of `asset` (the per-batch ones)."""
    found: dict[str, dict[str, object]] = {}
    for record in instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION).records:
        event = record.event_log_entry.dagster_event
        assert event is not None
        materialization = event.step_materialization_data.materialization
        if materialization.asset_key == dg.AssetKey(asset) and "processed" in materialization.metadata:
            found[str(materialization.partition)] = {k: v.value for k, v in materialization.metadata.items()}
    return found


def test_broken_batch_fails_alone_and_the_rerun_redoes_only_it(
    data_dir: Path, small_inbox: Path, instance: dg.DagsterInstance
) -> None:
    resources, keys = registered(instance, data_dir, small_inbox, batches=3, batch_size=4)
    warehouse = resources["warehouse"]
    manifest = warehouse.read_table(UPLOAD_MANIFEST)
    sizes = manifest.groupby("batch_id").size().to_dict()
    broken = keys[1]
    saved = manifest[manifest["batch_id"] == broken]
    warehouse.replace_rows(UPLOAD_MANIFEST, saved.iloc[0:0], {"batch_id": broken})  # its manifest rows are gone

    tags = partition_range_tags(keys[0], keys[-1])
    first = dg.materialize(ASSETS, resources=resources, instance=instance, tags=tags, raise_on_error=False)
    assert not first.success
    failure = next(e for e in first.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE)
    assert f"no manifest rows for batch {broken}" in str(failure.event_specific_data.error.message)
    done = materializations(instance, first.run_id, "document_text")
    assert set(done) == {keys[0], keys[2]}  # the good batches were materialised, each with its own figures
    for key in (keys[0], keys[2]):
        assert done[key]["processed"] == sizes[key] and done[key]["dagster/row_count"] == sizes[key]
    text = warehouse.read_table(DOCUMENT_TEXT, columns=["batch_id", "doc_id"])
    assert set(text["batch_id"]) == {keys[0], keys[2]}

    warehouse.append_rows(UPLOAD_MANIFEST, saved)  # the batch is repaired
    second = dg.materialize(ASSETS, resources=resources, instance=instance, tags=tags)
    assert second.success
    redone = materializations(instance, second.run_id, "document_text")
    assert redone[broken]["processed"] == sizes[broken]
    for key in (keys[0], keys[2]):  # already committed: skipped, not parsed again
        assert redone[key]["processed"] == 0 and redone[key]["skipped"] == sizes[key]
    text = warehouse.read_table(DOCUMENT_TEXT, columns=["batch_id", "doc_id"])
    assert len(text) == 10 and text["doc_id"].is_unique
    commits = warehouse.read_table(BATCH_COMMITS)
    assert sorted(commits.loc[commits["asset"] == "document_skills", "batch_id"]) == sorted(keys)


def test_forced_rerun_redoes_a_committed_batch(
    data_dir: Path, small_inbox: Path, instance: dg.DagsterInstance
) -> None:
    resources = make_resources(data_dir, small_inbox)
    (key,) = register(instance, resources)
    assert dg.materialize(ASSETS, resources=resources, instance=instance, partition_key=key).success
    again = dg.materialize(ASSETS, resources=resources, instance=instance, partition_key=key)
    skipped = again.asset_materializations_for_node("document_skills")[0].metadata
    assert skipped["processed"].value == 0 and skipped["skipped"].value == 10
    forced = dg.materialize(
        ASSETS, resources=resources, instance=instance, partition_key=key, tags={"skillatlas/force": "true"}
    )
    redone = forced.asset_materializations_for_node("document_skills")[0].metadata
    assert redone["processed"].value == 10 and redone["skipped"].value == 0
    skills = resources["warehouse"].read_table(DOCUMENT_SKILLS)
    assert not skills.duplicated(["doc_id", "skill_id"]).any()


def test_a_batch_logs_progress_every_ten_documents(
    data_dir: Path, small_inbox: Path, instance: dg.DagsterInstance
) -> None:
    for i in range(2):
        (small_inbox / "jobs" / f"extra-{i}.txt").write_text(f"Nurse {i} wanted. Patient care and wound care.\n")
    (small_inbox / "jobs" / "empty.txt").write_bytes(b"")
    resources = make_resources(data_dir, small_inbox)
    (key,) = register(instance, resources)
    result = dg.materialize(ASSETS, resources=resources, instance=instance, partition_key=key)
    messages = [entry.user_message for entry in instance.all_logs(result.run_id)]
    progress = [m for m in messages if m.startswith(f"batch {key}: ") and "documents," in m]
    # text: 13 files, one empty; skills: the 12 parsed documents; a line at 10 and at the end of each
    assert progress == [
        f"batch {key}: 10/13 documents, {progress[0].rsplit(', ', 1)[1]}",
        f"batch {key}: 13/13 documents, 1 failed",
        f"batch {key}: 10/12 documents, 0 failed",
        f"batch {key}: 12/12 documents, 0 failed",
    ]


def test_an_interrupt_is_never_retried_and_keeps_nothing_half_done(
    data_dir: Path, small_inbox: Path, instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    resources = make_resources(data_dir, small_inbox)
    (key,) = register(instance, resources)

    def interrupted(path: Path, **kwargs: object) -> None:
        raise dg.DagsterExecutionInterruptedError()

    monkeypatch.setattr(documents, "parse_document", interrupted)
    result = dg.materialize(ASSETS, resources=resources, instance=instance, partition_key=key, raise_on_error=False)
    assert not result.success
    types = [e.event_type for e in result.all_events]
    assert dg.DagsterEventType.STEP_UP_FOR_RETRY not in types  # the RetryPolicy did not catch it
    failure = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE)
    assert "interrupted after 0 of 1 batch(es)" in failure.event_specific_data.error.message
    assert resources["warehouse"].read_table(DOCUMENT_TEXT).empty


def test_offline_extraction_is_in_no_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    """The `openai` pool serialises LLM calls only; offline extraction must never wait on it."""
    assert documents.document_skills.op.pool is None  # the test environment extracts offline
    monkeypatch.setenv("SKILLATLAS_EXTRACTOR", "cascade")
    assert documents.extraction_pool() == documents.LLM_POOL
    monkeypatch.setenv("SKILLATLAS_EXTRACTOR", "offline")
    assert documents.extraction_pool() is None
