"""The inbox sensor: new files become batches and run requests, exactly once."""

import json
import os
import shutil
from pathlib import Path

import dagster as dg
import pytest

from assets.documents import MANIFEST_TABLE
from assets.partitions import upload_batches
from sensors import inbox_sensor
from tests.conftest import make_resources


def tick(instance: dg.DagsterInstance, resources: dict, cursor: str | None = None) -> dg.SensorResult:
    with dg.build_sensor_context(instance=instance, cursor=cursor, resources=resources) as context:
        result = inbox_sensor(context)
    for request in result.dynamic_partitions_requests or []:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    return result


def test_new_files_become_one_run_per_batch(tmp_path: Path, small_inbox: Path, instance: dg.DagsterInstance) -> None:
    resources = make_resources(tmp_path / "d", small_inbox, batch_size=4)
    result = tick(instance, resources)
    keys = instance.get_dynamic_partitions(upload_batches.name)
    assert len(keys) == 3  # 10 files in batches of at most 4
    assert [r.partition_key for r in result.run_requests] == keys  # the batch is the unit of work
    for request, key in zip(result.run_requests, keys, strict=True):
        assert request.run_key == f"ingest:{key}"
        assert request.tags["skillatlas/queue"] == "ingest"
        assert "dagster/asset_partition_range_start" not in request.tags
    manifest = resources["warehouse"].read_table(MANIFEST_TABLE)
    assert len(manifest) == 10
    assert manifest.groupby("batch_id").size().max() <= 4
    assert set(manifest["kind"]) == {"course", "job"}
    assert json.loads(result.cursor)["mtime_ns"] > 0


def test_second_tick_processes_nothing_twice(tmp_path: Path, small_inbox: Path, instance: dg.DagsterInstance) -> None:
    resources = make_resources(tmp_path / "d", small_inbox)
    first = tick(instance, resources)
    second = tick(instance, resources, cursor=first.cursor)
    assert not second.run_requests
    assert second.skip_reason is not None
    # Even with the cursor lost, content hashes stop a second registration.
    third = tick(instance, resources, cursor=None)
    assert not third.run_requests
    assert len(resources["warehouse"].read_table(MANIFEST_TABLE)) == 10


def test_identical_reupload_is_recognised_by_content(
    tmp_path: Path, small_inbox: Path, instance: dg.DagsterInstance
) -> None:
    resources = make_resources(tmp_path / "d", small_inbox)
    first = tick(instance, resources)
    original = next((small_inbox / "jobs").iterdir())
    copy = small_inbox / "jobs" / f"renamed-{original.name}"
    shutil.copy(original, copy)
    os.utime(copy)  # newer than the cursor
    new = small_inbox / "courses" / "new-course.txt"
    new.write_text("NEW 100 Welding basics\nStudents learn arc welding and blueprint reading.\n")
    result = tick(instance, resources, cursor=first.cursor)
    manifest = resources["warehouse"].read_table(MANIFEST_TABLE)
    assert len(manifest) == 11  # the new course only; the renamed copy is a re-upload
    assert "courses/new-course.txt" in set(manifest["relpath"])
    assert f"jobs/{copy.name}" not in set(manifest["relpath"])
    assert len(result.run_requests) == 1 and result.run_requests[0].partition_key is not None


def test_batch_registered_but_not_requested_is_recovered(
    tmp_path: Path, small_inbox: Path, instance: dg.DagsterInstance
) -> None:
    """A tick that died after writing the manifest but before adding partitions loses nothing."""
    resources = make_resources(tmp_path / "d", small_inbox)
    with dg.build_sensor_context(instance=instance, resources=resources) as context:
        lost = inbox_sensor(context)  # partitions never added: the tick 'crashed'
    assert instance.get_dynamic_partitions(upload_batches.name) == []
    recovered = tick(instance, resources, cursor=lost.cursor)
    keys = instance.get_dynamic_partitions(upload_batches.name)
    assert keys and len(recovered.run_requests) == 1
    assert set(keys) == set(resources["warehouse"].read_table(MANIFEST_TABLE)["batch_id"])


def test_unsupported_and_hidden_files_are_not_registered(
    tmp_path: Path, small_inbox: Path, instance: dg.DagsterInstance
) -> None:
    (small_inbox / "jobs" / "notes.xlsx").write_bytes(b"PK\x03\x04")
    (small_inbox / "jobs" / ".upload.part").write_text("partial")
    outside = tmp_path / "secret.txt"
    outside.write_text("not for the inbox")
    (small_inbox / "jobs" / "link.txt").symlink_to(outside)
    resources = make_resources(tmp_path / "d", small_inbox)
    tick(instance, resources)
    relpaths = set(resources["warehouse"].read_table(MANIFEST_TABLE)["relpath"])
    assert not {"jobs/notes.xlsx", "jobs/.upload.part", "jobs/link.txt"} & relpaths
    assert len(relpaths) == 10


def test_missing_inbox_is_a_clear_error(tmp_path: Path, instance: dg.DagsterInstance) -> None:
    resources = make_resources(tmp_path / "d", tmp_path / "nowhere")
    with pytest.raises(Exception, match="inbox folder .*nowhere does not exist"):
        tick(instance, resources)
