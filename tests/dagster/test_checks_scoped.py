"""Per-batch checks judge only the batches of the run being materialised (issue 13): a batch that another run is
still extracting can never fail this run; a batch of this run that yields no skills still does."""

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import dagster as dg

from assets import documents
from assets.checks import batch_failure_rate, every_batch_yields_skills
from resources.extractor import ExtractorResource
from tests.conftest import make_resources
from tests.support.documents import ASSETS, register

CHECKS = [every_batch_yields_skills, batch_failure_rate]


def check_results(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def test_check_does_not_fail_an_unrelated_run(data_dir: Path, small_inbox: Path, instance: dg.DagsterInstance) -> None:
    resources = make_resources(data_dir, small_inbox, batch_size=5)
    first, second = register(instance, resources)
    # the second batch is "being extracted": it has text and no skills yet
    assert dg.materialize(
        [documents.document_text], resources=resources, instance=instance, partition_key=second
    ).success
    result = dg.materialize([*ASSETS, *CHECKS], resources=resources, instance=instance, partition_key=first)
    assert result.success
    evaluations = check_results(result)
    assert evaluations["every_batch_yields_skills"].passed
    assert evaluations["every_batch_yields_skills"].metadata["batches_checked"].value == 1
    assert evaluations["every_batch_yields_skills"].metadata["batches_without_skills"].value == "none"
    assert evaluations["batch_failure_rate"].passed
    assert evaluations["batch_failure_rate"].metadata["batches"].value == 1


class EmptyExtractor(ExtractorResource):
    """An extractor fault: every document comes back without skills."""

    def build(self, taxonomy: Any, vectors: Any) -> Any:
        return SimpleNamespace(extract=lambda text: [], version="empty")


def test_check_fails_its_own_batch_without_skills(
    data_dir: Path, small_inbox: Path, instance: dg.DagsterInstance
) -> None:
    resources = make_resources(data_dir, small_inbox, batch_size=5, extractor=EmptyExtractor(mode="offline"))
    first, _second = register(instance, resources)
    result = dg.materialize(
        [*ASSETS, *CHECKS], resources=resources, instance=instance, partition_key=first, raise_on_error=False
    )
    evaluation = check_results(result)["every_batch_yields_skills"]
    assert not evaluation.passed and evaluation.metadata["batches_without_skills"].value == first
