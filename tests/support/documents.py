"""The document assets as tests materialise them, and registering an inbox's files as upload batches."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg

from assets import documents, reference, scores
from assets.partitions import UPLOAD_BATCHES
from sensors import inbox_sensor
from tests.conftest import make_resources

# document_text and document_skills, with the reference assets they read as (already materialised) sources
ASSETS = [
    documents.document_text,
    documents.document_skills,
    reference.skill_taxonomy.to_source_asset(),
    reference.taxonomy_vectors.to_source_asset(),
    scores.onet_text_skills.to_source_asset(),
]


def register(instance: dg.DagsterInstance, resources: dict) -> list[str]:
    """One inbox sensor tick, its partition requests applied: the upload batches' keys."""
    with dg.build_sensor_context(instance=instance, resources=resources) as context:
        result = inbox_sensor(context)
    for request in result.dynamic_partitions_requests or []:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    return instance.get_dynamic_partitions(UPLOAD_BATCHES)


def registered(
    instance: dg.DagsterInstance, data_dir: Path, inbox: Path, *, batches: int, **overrides: Any
) -> tuple[dict, list[str]]:
    """Resources on `inbox` (with `overrides`, e.g. batch_size) and its files registered as `batches` batches."""
    resources = make_resources(data_dir, inbox, **overrides)
    keys = register(instance, resources)
    assert len(keys) == batches
    return resources, keys
