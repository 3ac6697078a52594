"""The failed_items asset shows refused uploads (skipped_uploads) beside the failed items, with their reason."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

from assets.failed_items import failed_items
from tests.conftest import make_resources
from tests.support.documents import register


def test_refused_uploads_are_in_view(tmp_path: Path, small_inbox: Path, instance: dg.DagsterInstance) -> None:
    os.mkfifo(small_inbox / "jobs" / "pipe.txt")  # a FIFO: refused at the inbox, never read
    resources = make_resources(tmp_path / "data", small_inbox)
    register(instance, resources)
    result = dg.materialize([failed_items], resources=resources, instance=instance)
    metadata = result.asset_materializations_for_node("failed_items")[0].metadata
    assert metadata["uploads_refused"].value == 1
    table = metadata["refused_uploads"].value
    assert "jobs/pipe.txt" in table and "| path | reason |" in table
