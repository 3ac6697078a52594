"""document_text and document_skills on their own: bad files, ledger rows, idempotent partition writes."""

from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from assets import documents
from assets.partitions import checked_keys, partition_range_tags, upload_batches
from skillatlas.store.tables import DOCUMENT_SKILLS, DOCUMENT_TEXT, ITEM_FAILURES, UPLOAD_MANIFEST
from tests.conftest import make_resources
from tests.support.documents import ASSETS, register, registered


def add_bad_files(inbox: Path) -> None:
    (inbox / "jobs" / "empty.txt").write_bytes(b"")
    (inbox / "jobs" / "corrupt.pdf").write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 20)
    (inbox / "courses" / "binary.txt").write_bytes(bytes(range(256)) * 40)


def test_bad_files_become_ledger_rows_and_good_ones_go_on(
    data_dir: Path, small_inbox: Path, instance: dg.DagsterInstance
) -> None:
    add_bad_files(small_inbox)
    resources = make_resources(data_dir, small_inbox)
    (key,) = register(instance, resources)
    result = dg.materialize(ASSETS, resources=resources, instance=instance, partition_key=key)
    assert result.success
    warehouse = resources["warehouse"]
    text = warehouse.read_table(DOCUMENT_TEXT)
    assert len(text) == 10 and (text["char_count"] > 100).all()
    ledger = warehouse.read_table(ITEM_FAILURES)
    reasons = dict(zip(ledger["item"], ledger["error_kind"], strict=True))
    assert reasons == {
        "jobs/empty.txt": "no_extractable_text",
        "jobs/corrupt.pdf": "invalid_format",
        "courses/binary.txt": "invalid_format",
    }
    assert (ledger["run_id"] == result.run_id).all() and (ledger["partition"] == key).all()
    metadata = result.asset_materializations_for_node("document_text")[0].metadata
    assert metadata["processed"].value == 13 and metadata["failed"].value == 3 and metadata["succeeded"].value == 10

    skills = warehouse.read_table(DOCUMENT_SKILLS)
    assert skills["doc_id"].nunique() >= 9  # every good document but at most one yields skills
    assert skills["confidence"].between(0, 1).all()
    for row in skills.sample(min(20, len(skills)), random_state=0).itertuples():
        doc_text = text.set_index("doc_id").loc[row.doc_id, "text"]
        assert 0 <= row.evidence_start < row.evidence_end <= len(doc_text)
    assert not skills.duplicated(["doc_id", "skill_id"]).any()


def test_rematerialising_a_batch_replaces_its_rows(
    data_dir: Path, small_inbox: Path, instance: dg.DagsterInstance
) -> None:
    resources, keys = registered(instance, data_dir, small_inbox, batches=2, batch_size=5)
    for key in keys:
        assert dg.materialize(ASSETS, resources=resources, instance=instance, partition_key=key).success
    warehouse = resources["warehouse"]
    before_text = warehouse.read_table(DOCUMENT_TEXT)
    before_skills = warehouse.read_table(DOCUMENT_SKILLS)
    assert dg.materialize(ASSETS, resources=resources, instance=instance, partition_key=keys[0]).success
    after_text = warehouse.read_table(DOCUMENT_TEXT)
    after_skills = warehouse.read_table(DOCUMENT_SKILLS)
    assert len(after_text) == len(before_text) == 10
    assert len(after_skills) == len(before_skills)
    pd.testing.assert_frame_equal(
        before_skills.sort_values(["doc_id", "skill_id"]).reset_index(drop=True),
        after_skills.sort_values(["doc_id", "skill_id"]).reset_index(drop=True),
    )


def test_range_run_covers_several_batches_in_one_run(
    data_dir: Path, small_inbox: Path, instance: dg.DagsterInstance
) -> None:
    resources, keys = registered(instance, data_dir, small_inbox, batches=4, batch_size=3)
    result = dg.materialize(ASSETS, resources=resources, instance=instance,
                            tags=partition_range_tags(keys[0], keys[-1]))
    assert result.success
    text = resources["warehouse"].read_table(DOCUMENT_TEXT)
    assert set(text["batch_id"]) == set(keys) and len(text) == 10


def test_unknown_partition_key_is_refused(data_dir: Path, small_inbox: Path, instance: dg.DagsterInstance) -> None:
    resources = make_resources(data_dir, small_inbox)
    instance.add_dynamic_partitions(upload_batches.name, ["b-never-registered"])
    with pytest.raises(dg.Failure, match="no manifest rows for batch"):
        dg.materialize(
            [documents.document_text], resources=resources, instance=instance, partition_key="b-never-registered"
        )


def test_hostile_partition_key_is_refused() -> None:
    with pytest.raises(dg.Failure, match="bad partition key: partition key .* contains"):
        checked_keys(["b20261122-ok", "x'; drop table upload_manifest; --"])


def test_semantic_extraction_runs_inside_the_asset(
    data_dir: Path, small_inbox: Path, instance: dg.DagsterInstance
) -> None:
    """The default (phrase + MiniLM semantic) extractor, through the asset, on real sample documents."""
    resources = make_resources(data_dir, small_inbox, semantic=True)
    (key,) = register(instance, resources)
    result = dg.materialize(ASSETS, resources=resources, instance=instance, partition_key=key)
    assert result.success
    skills = resources["warehouse"].read_table(DOCUMENT_SKILLS)
    assert {"phrase", "semantic"} <= set(skills["method"])
    assert skills["confidence"].between(0.5, 1).all()  # min_confidence 0.5 by default
    metadata = result.asset_materializations_for_node("document_skills")[0].metadata
    assert metadata["failed"].value == 0 and metadata["skills_found"].value == len(skills)


def test_openai_extraction_through_the_asset_records_item_failures(
    data_dir: Path, small_inbox: Path, instance: dg.DagsterInstance, caplog: pytest.LogCaptureFixture
) -> None:
    """OpenAI mode with the real `openai` client against a local server: one document whose requests keep
    failing becomes a ledger row (model_error), the others get skills; usage lands in metadata; the key never
    appears in logs."""
    from resources.extractor import ExtractorResource
    from tests.support.fake_openai import FakeOpenAIServer, server_error

    poisoned = small_inbox / "jobs" / "poisoned.txt"
    poisoned.write_text("Data analyst wanted. BAD DOC marker. Python, SQL and Microsoft Excel required.\n")
    with FakeOpenAIServer(latency=0.0) as server:
        server.when("BAD DOC", server_error(500))
        extractor = ExtractorResource(
            mode="openai", semantic=False, openai_api_key="sk-test-never-logged", openai_base_url=server.base_url,
            cache_dir=str(data_dir), requests_per_minute=6000,
        )
        resources = make_resources(data_dir, small_inbox, extractor=extractor)
        (key,) = register(instance, resources)
        result = dg.materialize(ASSETS, resources=resources, instance=instance, partition_key=key)
        assert result.success
        requests = len(server.requests)
    ledger = resources["warehouse"].read_table(ITEM_FAILURES, {"asset": "document_skills"})
    assert ledger[["item", "error_kind"]].values.tolist() == [["jobs/poisoned.txt", "model_error"]]
    skills = resources["warehouse"].read_table(DOCUMENT_SKILLS)
    assert set(skills["method"]) == {"llm"} and skills["doc_id"].nunique() >= 8
    metadata = result.asset_materializations_for_node("document_skills")[0].metadata
    assert metadata["llm_requests"].value == requests and metadata["llm_prompt_tokens"].value > 0
    assert metadata["failed"].value == 1
    assert "sk-test-never-logged" not in caplog.text
    assert all("sk-test-never-logged" not in str(v.value) for v in metadata.values())


class _Killed(BaseException):
    """Stands in for a cancel or a dead worker: not an item error, it stops the run where it is."""


def test_interrupted_range_run_keeps_finished_batches(
    data_dir: Path, small_inbox: Path, instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    resources = make_resources(data_dir, small_inbox, batch_size=4)
    keys = register(instance, resources)
    assert len(keys) == 3
    warehouse = resources["warehouse"]
    manifest = warehouse.read_table(UPLOAD_MANIFEST)
    last_batch = set(manifest.loc[manifest["batch_id"] == keys[-1], "relpath"])
    real_parse = documents.parse_document

    def parse_until_the_last_batch(path: Path, **kwargs: object):
        if Path(path).resolve().relative_to(small_inbox.resolve()).as_posix() in last_batch:
            raise _Killed()
        return real_parse(path, **kwargs)

    monkeypatch.setattr(documents, "parse_document", parse_until_the_last_batch)
    range_tags = partition_range_tags(keys[0], keys[-1])
    with pytest.raises(_Killed):
        dg.materialize(ASSETS, resources=resources, instance=instance, tags=range_tags)
    text = warehouse.read_table(DOCUMENT_TEXT)
    assert set(text["batch_id"]) == set(keys[:2])  # the finished batches stayed committed
    assert len(text) == 8 and text["doc_id"].is_unique

    monkeypatch.setattr(documents, "parse_document", real_parse)
    assert dg.materialize(ASSETS, resources=resources, instance=instance, tags=range_tags).success
    text = warehouse.read_table(DOCUMENT_TEXT)
    assert len(text) == 10 and text["doc_id"].is_unique  # the rerun completes without duplicates
    skills = warehouse.read_table(DOCUMENT_SKILLS)
    assert not skills.duplicated(["doc_id", "skill_id"]).any()
