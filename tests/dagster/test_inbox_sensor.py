"""The inbox sensor: new files become batches and one run per batch, exactly once — and every way uploads
really arrive (old mtimes, files still being written or replaced, edits, links, odd names, FIFOs, huge files,
other encodings, hand-added partition keys, an empty instance) neither loses, duplicates nor stalls a file.

Each hazard test runs the sensor and the ingest assets on a temporary instance and warehouse and checks that
the good files beside the hazard land exactly once in `document_text`.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

import skillatlas.ingest.inbox as inbox_domain
from assets import documents
from assets.partitions import checked_keys, upload_batches
from assets.trends import postings_skills_for_days
from sensors import inbox_sensor
from skillatlas.store.tables import (
    DOCUMENT_SKILLS,
    DOCUMENT_TEXT,
    ITEM_FAILURES,
    SKIPPED_UPLOADS,
    SUPERSEDED_DOCUMENT_SKILLS,
    SUPERSEDED_DOCUMENT_TEXT,
    UPLOAD_MANIFEST,
)
from skillatlas.store.versions import restore_version
from tests.conftest import SAMPLE_INBOX, make_resources
from tests.support.documents import ASSETS

OLD = 978_307_200  # 2001-01-01: the mtime `cp -p` / `rsync -a` / unzip keep from the source


def tick(instance: dg.DagsterInstance, resources: dict) -> dg.SensorResult:
    """Evaluate the sensor once and apply its partition requests, as the daemon does."""
    with dg.build_sensor_context(instance=instance, resources=resources) as context:
        result = inbox_sensor(context)
    for request in result.dynamic_partitions_requests or []:
        if isinstance(request, dg.DeleteDynamicPartitionsRequest):
            for key in request.partition_keys:
                instance.delete_dynamic_partition(request.partitions_def_name, key)
        else:
            instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    return result


def ingest(instance: dg.DagsterInstance, resources: dict, *, skills: bool = False) -> dg.SensorResult:
    """One tick, then every ingest run it requested: document_text of that batch (where documents land), and
    document_skills too when the test looks at skills (building the extractor costs seconds a run)."""
    result = tick(instance, resources)
    for request in result.run_requests or []:
        assert request.job_name == "ingest_batch_job"
        run_batch(instance, resources, str(request.partition_key), skills=skills)
    return result


def run_batch(instance: dg.DagsterInstance, resources: dict, key: str, *, skills: bool = False) -> None:
    selection = ASSETS if skills else [documents.document_text]
    assert dg.materialize(selection, resources=resources, instance=instance, partition_key=key).success


def sample_txt(kind: str, count: int) -> list[Path]:
    return sorted((SAMPLE_INBOX / kind).glob("*.txt"))[:count]


@pytest.fixture
def txt_inbox(tmp_path: Path) -> Path:
    """4 good documents (2 syllabi, 2 job postings, plain text: quick to parse and extract)."""
    inbox = tmp_path / "inbox"
    for kind in ("courses", "jobs"):
        (inbox / kind).mkdir(parents=True)
        for f in sample_txt(kind, 2):
            shutil.copy2(f, inbox / kind / f.name)
    return inbox


@pytest.fixture
def resources(data_dir: Path, txt_inbox: Path) -> dict:
    """The resources of `txt_inbox`."""
    return make_resources(data_dir, txt_inbox)


def good_names(inbox: Path) -> set[str]:
    return {f"{kind}/{f.name}" for kind in ("courses", "jobs") for f in sample_txt(kind, 2)}


def landed(resources: dict) -> pd.DataFrame:
    return resources["warehouse"].read_table(DOCUMENT_TEXT)


def landed_once(resources: dict, relpath: str, count: int) -> pd.Series:
    """The one `document_text` row of `relpath`, once `count` documents have landed in all."""
    text = landed(resources)
    row = text[text["relpath"] == relpath]
    assert len(row) == 1 and len(text) == count
    return row.iloc[0]


def assert_good_once(resources: dict, inbox: Path) -> None:
    text = landed(resources)
    counts = text["relpath"].value_counts()
    for name in good_names(inbox):
        assert counts.get(name, 0) == 1, f"{name} landed {counts.get(name, 0)} times"


def skipped(resources: dict) -> pd.DataFrame:
    return resources["warehouse"].read_table(SKIPPED_UPLOADS)


# --------------------------------------------------------------------------------------------------------
# registration, one run per batch, exactly once
# --------------------------------------------------------------------------------------------------------


def test_new_files_become_one_run_per_batch(data_dir: Path, small_inbox: Path, instance: dg.DagsterInstance) -> None:
    resources = make_resources(data_dir, small_inbox, batch_size=4)
    result = tick(instance, resources)
    keys = instance.get_dynamic_partitions(upload_batches.name)
    assert len(keys) == 3  # 10 files in batches of at most 4
    assert sorted(r.partition_key for r in result.run_requests) == sorted(keys)
    for request in result.run_requests:
        assert request.run_key == f"ingest:{request.partition_key}"
        assert request.job_name == "ingest_batch_job"
        assert request.tags == {"skillatlas/queue": "ingest", "skillatlas/trigger": "inbox_sensor"}
        assert "dagster/asset_partition_range_start" not in request.tags
    manifest = resources["warehouse"].read_table(UPLOAD_MANIFEST)
    assert len(manifest) == 10
    assert manifest.groupby("batch_id").size().max() <= 4
    assert set(manifest["kind"]) == {"course", "job"}
    assert (manifest["mtime_ns"] > 0).all()


def test_second_tick_processes_nothing_twice(data_dir: Path, small_inbox: Path, instance: dg.DagsterInstance) -> None:
    resources = make_resources(data_dir, small_inbox)
    tick(instance, resources)
    hashed: list[Path] = []
    original = inbox_domain.file_sha256

    def spy(path: Path, chunk: int = 1 << 20) -> str:
        hashed.append(path)
        return original(path, chunk)

    inbox_domain.file_sha256 = spy  # type: ignore[assignment]
    try:
        second = tick(instance, resources)
    finally:
        inbox_domain.file_sha256 = original  # type: ignore[assignment]
    assert not second.run_requests and second.skip_reason is not None
    assert hashed == []  # unchanged (size, mtime): nothing is read again
    assert len(resources["warehouse"].read_table(UPLOAD_MANIFEST)) == 10


def test_touched_file_is_not_a_new_version(data_dir: Path, small_inbox: Path, instance: dg.DagsterInstance) -> None:
    resources = make_resources(data_dir, small_inbox)
    tick(instance, resources)
    target = next((small_inbox / "jobs").iterdir())
    os.utime(target, (OLD, OLD))
    result = tick(instance, resources)
    assert not result.run_requests
    manifest = resources["warehouse"].read_table(UPLOAD_MANIFEST)
    assert len(manifest) == 10
    row = manifest[manifest["relpath"] == f"jobs/{target.name}"].iloc[0]
    assert row["mtime_ns"] == OLD * 10**9  # refreshed, so the next tick does not hash it again


def test_identical_reupload_is_recognised_by_content(
    data_dir: Path, small_inbox: Path, instance: dg.DagsterInstance
) -> None:
    resources = make_resources(data_dir, small_inbox)
    tick(instance, resources)
    original = next((small_inbox / "jobs").iterdir())
    copy = small_inbox / "jobs" / f"renamed-{original.name}"
    shutil.copy(original, copy)
    new = small_inbox / "courses" / "new-course.txt"
    new.write_text("NEW 100 Welding basics\nStudents learn arc welding and blueprint reading.\n")
    result = tick(instance, resources)
    manifest = resources["warehouse"].read_table(UPLOAD_MANIFEST)
    assert len(manifest) == 11  # the new course only; the renamed copy is a re-upload
    assert "courses/new-course.txt" in set(manifest["relpath"])
    assert f"jobs/{copy.name}" not in set(manifest["relpath"])
    assert len(result.run_requests) == 1 and result.run_requests[0].partition_key is not None
    records = skipped(resources)
    assert records[["relpath", "reason_kind"]].values.tolist() == [[f"jobs/{copy.name}", "duplicate"]]
    assert f"jobs/{original.name}" in records["reason"].iloc[0]
    tick(instance, resources)
    assert len(skipped(resources)) == 1  # recorded once


def test_batch_registered_but_not_requested_is_recovered(
    data_dir: Path, small_inbox: Path, instance: dg.DagsterInstance
) -> None:
    """A tick that died after writing the manifest but before adding partitions loses nothing."""
    resources = make_resources(data_dir, small_inbox)
    with dg.build_sensor_context(instance=instance, resources=resources) as context:
        inbox_sensor(context)  # partitions never added: the tick 'crashed'
    assert instance.get_dynamic_partitions(upload_batches.name) == []
    recovered = tick(instance, resources)
    keys = instance.get_dynamic_partitions(upload_batches.name)
    assert keys and len(recovered.run_requests) == len(keys)
    assert set(keys) == set(resources["warehouse"].read_table(UPLOAD_MANIFEST)["batch_id"])


def test_unsupported_hidden_and_outside_files_get_one_record_each(
    data_dir: Path, small_inbox: Path, tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    (small_inbox / "jobs" / "notes.xlsx").write_bytes(b"PK\x03\x04")
    (small_inbox / "jobs" / ".upload.part").write_text("partial")
    (small_inbox / "jobs" / "draft.txt.part").write_text("partial")
    outside = tmp_path / "secret.txt"
    outside.write_text("not for the inbox")
    (small_inbox / "jobs" / "link.txt").symlink_to(outside)
    resources = make_resources(data_dir, small_inbox)
    first = tick(instance, resources)
    second = tick(instance, resources)  # nothing recorded twice
    (observation,) = first.asset_events  # shown on document_text's page in the UI
    assert observation.metadata["newly_refused_uploads"].value == 4
    assert not second.asset_events
    relpaths = set(resources["warehouse"].read_table(UPLOAD_MANIFEST)["relpath"])
    assert len(relpaths) == 10
    records = dict(zip(skipped(resources)["relpath"], skipped(resources)["reason_kind"], strict=True))
    assert records == {
        "jobs/notes.xlsx": "unsupported_type",
        "jobs/.upload.part": "hidden",
        "jobs/draft.txt.part": "partial_upload",
        "jobs/link.txt": "symlink_outside_inbox",
    }


def test_missing_inbox_is_a_clear_error(data_dir: Path, tmp_path: Path, instance: dg.DagsterInstance) -> None:
    resources = make_resources(data_dir, tmp_path / "nowhere")
    with pytest.raises(Exception, match="inbox folder .*nowhere does not exist"):
        tick(instance, resources)


# --------------------------------------------------------------------------------------------------------
# hazards: each through the sensor and the ingest path, good files beside it land exactly once
# --------------------------------------------------------------------------------------------------------


def test_old_mtime_copy_is_found(data_dir: Path, txt_inbox: Path, tmp_path: Path, instance: dg.DagsterInstance) -> None:
    """`cp -p` keeps the source's mtime, older than everything registered: a watermark missed it."""
    resources = make_resources(data_dir, txt_inbox)
    ingest(instance, resources)
    source = tmp_path / "old-posting.txt"
    source.write_text("Warehouse clerk\nForklift operation, inventory control and shipping documentation.\n")
    os.utime(source, (OLD, OLD))
    shutil.copy2(source, txt_inbox / "jobs" / "old-posting.txt")  # = cp -p
    result = ingest(instance, resources)
    assert len(result.run_requests) == 1
    text = landed(resources)
    assert (text["relpath"] == "jobs/old-posting.txt").sum() == 1
    assert len(text) == 5
    assert_good_once(resources, txt_inbox)


def test_growing_file_waits_for_the_quiet_period(data_dir: Path, txt_inbox: Path, instance: dg.DagsterInstance) -> None:
    resources = make_resources(data_dir, txt_inbox, quiet_seconds=1.0)
    time.sleep(1.1)  # the good files have settled
    growing = txt_inbox / "courses" / "growing.txt"
    growing.write_text("GROW 101 Welding\nPart one: arc welding.\n")
    first = ingest(instance, resources)
    assert len(first.run_requests) == 1  # the good files only
    assert "courses/growing.txt" not in set(landed(resources)["relpath"])
    time.sleep(0.6)
    with growing.open("a") as handle:  # still being written
        handle.write("Part two: blueprint reading and metal fabrication.\n")
    assert not ingest(instance, resources).run_requests
    time.sleep(1.1)
    ingest(instance, resources)
    assert "blueprint reading" in landed_once(resources, "courses/growing.txt", 5)["text"]  # the whole file, once
    assert_good_once(resources, txt_inbox)


def test_file_replaced_between_tick_and_run_is_requeued(
    resources: dict, txt_inbox: Path, instance: dg.DagsterInstance
) -> None:
    target = txt_inbox / "jobs" / "swap.txt"
    target.write_text("Payroll clerk\nPayroll processing and bookkeeping.\n")
    first = tick(instance, resources)
    manifest = resources["warehouse"].read_table(UPLOAD_MANIFEST)
    registered_doc = manifest.loc[manifest["relpath"] == "jobs/swap.txt", "doc_id"].iloc[0]
    replacement = txt_inbox / "swap.tmp"
    replacement.write_text("Network technician\nCisco routers, network security, firewall configuration.\n")
    os.replace(replacement, target)  # the file is swapped after the tick, before its run
    for request in first.run_requests:
        run_batch(instance, resources, str(request.partition_key))
    text = landed(resources)
    assert "jobs/swap.txt" not in set(text["relpath"])  # never stored under the registered version
    ledger = resources["warehouse"].read_table(ITEM_FAILURES)
    assert ledger.loc[ledger["item"] == "jobs/swap.txt", "error_kind"].tolist() == ["content_changed"]
    second = ingest(instance, resources)  # the sensor sees the new bytes and queues them
    assert len(second.run_requests) == 1
    row = landed_once(resources, "jobs/swap.txt", 5)
    assert "firewall" in row["text"] and row["doc_id"] != registered_doc
    assert_good_once(resources, txt_inbox)


def test_in_place_edit_retires_the_old_version_everywhere(
    resources: dict, txt_inbox: Path, instance: dg.DagsterInstance
) -> None:
    target = txt_inbox / "jobs" / "edited.txt"
    first, second = sorted((SAMPLE_INBOX / "jobs").glob("*.txt"))[-2:]  # real postings: they have skills
    target.write_text("Posted: 2026-10-05\n" + first.read_text())
    ingest(instance, resources, skills=True)
    warehouse = resources["warehouse"]
    old = landed(resources).set_index("relpath").loc["jobs/edited.txt"]
    old_skills = warehouse.read_table(DOCUMENT_SKILLS, {"doc_id": old["doc_id"]})
    assert len(old_skills) > 0
    target.write_text("Posted: 2026-10-05\n" + second.read_text())
    result = ingest(instance, resources, skills=True)
    assert len(result.run_requests) == 1
    text = landed(resources)
    assert len(text) == 5 and (text["relpath"] == "jobs/edited.txt").sum() == 1
    new = text.set_index("relpath").loc["jobs/edited.txt"]
    assert new["doc_id"] != old["doc_id"] and new["text"] != old["text"]
    assert len(warehouse.read_table(DOCUMENT_SKILLS, {"doc_id": new["doc_id"]})) > 0
    # gone from the live tables, so from the scores, trends and index rebuilt from them
    assert warehouse.read_table(DOCUMENT_SKILLS, {"doc_id": old["doc_id"]}).empty
    assert old["doc_id"] not in set(postings_skills_for_days(warehouse, ["2026-10-05"])["doc_id"])
    assert new["doc_id"] in set(postings_skills_for_days(warehouse, ["2026-10-05"])["doc_id"])
    # kept for rollback
    history = warehouse.read_table(SUPERSEDED_DOCUMENT_TEXT)
    assert history["doc_id"].tolist() == [old["doc_id"]] and history["superseded_by_batch"].iloc[0] == new["batch_id"]
    assert len(warehouse.read_table(SUPERSEDED_DOCUMENT_SKILLS)) == len(old_skills)
    assert restore_version(warehouse.engine, "jobs/edited.txt", str(old["batch_id"])) == 1
    restored = landed(resources).set_index("relpath").loc["jobs/edited.txt"]
    assert restored["doc_id"] == old["doc_id"]
    assert len(warehouse.read_table(DOCUMENT_SKILLS, {"doc_id": old["doc_id"]})) == len(old_skills)
    assert warehouse.read_table(DOCUMENT_SKILLS, {"doc_id": new["doc_id"]}).empty
    assert_good_once(resources, txt_inbox)


def _symlink_loop(inbox: Path) -> None:
    (inbox / "jobs" / "a.txt").symlink_to(inbox / "jobs" / "b.txt")
    (inbox / "jobs" / "b.txt").symlink_to(inbox / "jobs" / "a.txt")
    (inbox / "courses" / "loop").symlink_to(inbox / "courses")  # a folder link: not descended


def _non_utf8_name(inbox: Path) -> None:
    bad = os.path.join(os.fsencode(inbox / "jobs"), b"caf\xe9-posting.txt")
    with open(bad, "wb") as handle:
        handle.write(b"Barista\nEspresso preparation and customer service.\n")


def _fifo(inbox: Path) -> None:
    os.mkfifo(inbox / "jobs" / "pipe.txt")  # opening it would block the tick forever


@pytest.mark.parametrize(
    ("make_entries", "expected"),
    [
        pytest.param(_symlink_loop, [["jobs/a.txt", "symlink_loop"], ["jobs/b.txt", "symlink_loop"],
                                     ["courses/loop", "symlink_to_folder"]], id="symlink_loop_never_fails_the_tick"),
        pytest.param(_non_utf8_name, [["jobs/caf\\xe9-posting.txt", "bad_name"]],
                     id="non_utf8_name_never_fails_the_tick"),
        pytest.param(_fifo, [["jobs/pipe.txt", "not_a_regular_file"]], id="fifo_is_refused_without_blocking"),
    ],
)
def test_unreadable_entry_gets_one_record_and_never_fails_the_tick(
    data_dir: Path, txt_inbox: Path, instance: dg.DagsterInstance,
    make_entries: Callable[[Path], None], expected: list[list[str]],
) -> None:
    make_entries(txt_inbox)
    resources = make_resources(data_dir, txt_inbox)
    ingest(instance, resources)
    ingest(instance, resources)
    records = skipped(resources)[["relpath", "reason_kind"]].values.tolist()
    assert sorted(records) == sorted(expected)  # once each, across two ticks
    assert len(landed(resources)) == 4
    assert_good_once(resources, txt_inbox)


def test_oversized_file_is_refused_before_hashing(
    data_dir: Path, txt_inbox: Path, instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = txt_inbox / "jobs" / "huge.txt"
    big.write_bytes(b"word " * 40_000)  # 200 kB against a 100 kB limit
    hashed: list[str] = []
    original = inbox_domain.file_sha256

    def spy(path: Path, chunk: int = 1 << 20) -> str:
        hashed.append(path.name)
        return original(path, chunk)

    monkeypatch.setattr(inbox_domain, "file_sha256", spy)
    resources = make_resources(data_dir, txt_inbox, max_file_bytes=100_000)
    ingest(instance, resources)
    ingest(instance, resources)
    assert "huge.txt" not in hashed and len(hashed) == 4
    records = skipped(resources)
    assert records[["relpath", "reason_kind"]].values.tolist() == [["jobs/huge.txt", "too_large"]]
    assert "200,000 bytes, over the 100,000-byte limit" in records["reason"].iloc[0]
    assert len(landed(resources)) == 4
    assert_good_once(resources, txt_inbox)


def test_utf16_and_latin1_text_are_decoded(data_dir: Path, txt_inbox: Path, instance: dg.DagsterInstance) -> None:
    body = "Café manager\nRésumé required. Food safety, cash handling, staff scheduling.\n"
    (txt_inbox / "jobs" / "utf16le.txt").write_bytes(b"\xff\xfe" + body.replace("manager", "LE").encode("utf-16-le"))
    (txt_inbox / "jobs" / "utf16be.txt").write_bytes(b"\xfe\xff" + body.replace("manager", "BE").encode("utf-16-be"))
    (txt_inbox / "jobs" / "latin1.txt").write_bytes(body.replace("manager", "L1").encode("latin-1"))
    (txt_inbox / "jobs" / "utf8bom.txt").write_bytes(b"\xef\xbb\xbf" + body.replace("manager", "BOM").encode())
    resources = make_resources(data_dir, txt_inbox)
    ingest(instance, resources)
    text = landed(resources).set_index("relpath")["text"]
    for name, tag in (("utf16le", "LE"), ("utf16be", "BE"), ("latin1", "L1"), ("utf8bom", "BOM")):
        assert text[f"jobs/{name}.txt"].startswith(f"Café {tag}\nRésumé required"), name
    assert resources["warehouse"].read_table(ITEM_FAILURES).empty
    assert len(text) == 8
    assert_good_once(resources, txt_inbox)


def test_markdown_is_ingested(data_dir: Path, txt_inbox: Path, instance: dg.DagsterInstance) -> None:
    (txt_inbox / "courses" / "syllabus.md").write_text(
        "# DATA 200 Data analysis\n\n- Python programming\n- SQL queries\n- data visualization\n"
    )
    resources = make_resources(data_dir, txt_inbox)
    ingest(instance, resources)
    text = landed(resources).set_index("relpath")
    assert text.loc["courses/syllabus.md", "format"] == "txt"
    assert text.loc["courses/syllabus.md", "title"] == "DATA 200 Data analysis"
    assert skipped(resources).empty
    assert len(text) == 5
    assert_good_once(resources, txt_inbox)


HOSTILE_KEYS = [
    "x'; DROP TABLE upload_manifest; --",
    "../../etc/passwd",
    "b20261201-000000-000-abcdef\nrm -rf /",
    "b" * 5000,
    "hello",  # harmless-looking, but not an upload batch id
]


def test_hostile_partition_keys_are_removed_and_refused(
    data_dir: Path, txt_inbox: Path, instance: dg.DagsterInstance
) -> None:
    instance.add_dynamic_partitions(upload_batches.name, HOSTILE_KEYS)  # as hand-added through GraphQL
    resources = make_resources(data_dir, txt_inbox)
    result = ingest(instance, resources)
    keys = instance.get_dynamic_partitions(upload_batches.name)
    assert not set(HOSTILE_KEYS) & set(keys) and len(keys) == 1
    assert [r.partition_key for r in result.run_requests] == keys
    for key in HOSTILE_KEYS[:4]:  # and a run launched with one anyway stops before any work
        with pytest.raises(dg.Failure, match="bad partition key"):
            checked_keys([key])
    assert len(landed(resources)) == 4
    assert_good_once(resources, txt_inbox)


@pytest.mark.slow  # builds the reference data from scratch (a couple of minutes on a shared 2-core machine)
def test_fresh_instance_bootstraps_reference_data_before_ingest(
    tmp_path: Path, txt_inbox: Path, instance: dg.DagsterInstance
) -> None:
    from definitions import build_definitions

    resources = make_resources(tmp_path / "empty", txt_inbox)  # no reference data at all
    defs = build_definitions(resources)
    first = tick(instance, resources)
    assert [r.job_name for r in first.run_requests] == ["reference_job"]
    assert instance.get_dynamic_partitions(upload_batches.name) == []  # ingest held
    assert len(resources["warehouse"].read_table(UPLOAD_MANIFEST)) == 4  # but nothing lost
    run = defs.resolve_job_def("reference_job").execute_in_process(
        instance=instance, tags=dict(first.run_requests[0].tags)
    )
    assert run.success
    ingest(instance, resources, skills=True)
    assert len(landed(resources)) == 4
    assert len(resources["warehouse"].read_table(DOCUMENT_SKILLS)) > 0
    assert_good_once(resources, txt_inbox)


def test_failed_bootstrap_is_not_retried_in_a_loop(
    tmp_path: Path, txt_inbox: Path, instance: dg.DagsterInstance
) -> None:
    resources = make_resources(tmp_path / "empty", txt_inbox)
    first = tick(instance, resources)
    assert [r.job_name for r in first.run_requests] == ["reference_job"]
    instance.add_run(
        dg.DagsterRun(job_name="reference_job", run_id="0" * 8 + "-0000-0000-0000-000000000000",
                      status=dg.DagsterRunStatus.FAILURE)
    )
    second = tick(instance, resources)
    assert not second.run_requests
    assert "failed" in second.skip_reason.skip_message and "launch reference_job" in second.skip_reason.skip_message


def test_a_run_dying_between_commit_and_retirement_is_repaired_by_its_retry(
    resources: dict, txt_inbox: Path, instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = txt_inbox / "jobs" / "edited.txt"
    target.write_text("Payroll clerk\nPayroll processing and bookkeeping.\n")
    ingest(instance, resources)
    old = landed(resources).set_index("relpath").loc["jobs/edited.txt"]
    target.write_text("Network technician\nCisco routers, network security, firewall configuration.\n")
    request = tick(instance, resources).run_requests[0]

    def die(*args: object, **kwargs: object) -> int:
        raise ConnectionError("worker lost right after the batch committed")

    monkeypatch.setattr(documents, "retire_superseded_versions", die)
    result = dg.materialize([documents.document_text], resources=resources, instance=instance,
                            partition_key=str(request.partition_key), raise_on_error=False)
    assert not result.success
    text = landed(resources)
    assert (text["relpath"] == "jobs/edited.txt").sum() == 2  # new version committed, old one not yet retired
    monkeypatch.undo()
    run_batch(instance, resources, str(request.partition_key))  # the retry: batch skipped, retirement done
    text = landed(resources)
    assert (text["relpath"] == "jobs/edited.txt").sum() == 1
    assert text.set_index("relpath").loc["jobs/edited.txt", "doc_id"] != old["doc_id"]
    assert warehouse_history_ids(resources) == [old["doc_id"]]
    assert_good_once(resources, txt_inbox)


def warehouse_history_ids(resources: dict) -> list[str]:
    return resources["warehouse"].read_table(SUPERSEDED_DOCUMENT_TEXT)["doc_id"].tolist()
