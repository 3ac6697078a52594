"""The weekly cleanup job: orphaned batches and their rows go; dry runs change nothing."""

from pathlib import Path

import dagster as dg

from assets.partitions import upload_batches
from jobs.cleanup import cleanup_job
from skillatlas.store.tables import DOCUMENT_SKILLS, DOCUMENT_TEXT, UPLOAD_MANIFEST
from tests.conftest import make_resources
from tests.support.documents import ASSETS, register


def test_cleanup_removes_orphaned_batch(data_dir: Path, small_inbox: Path, instance: dg.DagsterInstance) -> None:
    resources = make_resources(data_dir, small_inbox, batch_size=5)
    keep, orphan = register(instance, resources)
    for key in (keep, orphan):
        assert dg.materialize(ASSETS, resources=resources, instance=instance, partition_key=key).success
    warehouse = resources["warehouse"]
    manifest = warehouse.read_table(UPLOAD_MANIFEST)
    warehouse.replace_rows(UPLOAD_MANIFEST, manifest.iloc[0:0], {"batch_id": orphan})  # manifest lost the batch

    dry = cleanup_job.execute_in_process(
        instance=instance,
        resources=resources,
        run_config={"ops": {"remove_orphaned_batches": {"config": {"dry_run": True}}}},
    )
    assert dry.success
    assert set(instance.get_dynamic_partitions(upload_batches.name)) == {keep, orphan}
    assert set(warehouse.read_table(DOCUMENT_TEXT)["batch_id"]) == {keep, orphan}

    result = cleanup_job.execute_in_process(instance=instance, resources=resources)
    assert result.success
    assert instance.get_dynamic_partitions(upload_batches.name) == [keep]
    assert set(warehouse.read_table(DOCUMENT_TEXT)["batch_id"]) == {keep}
    assert set(warehouse.read_table(DOCUMENT_SKILLS)["batch_id"]) == {keep}
