"""Asset checks. Blocking checks stop bad data from reaching what depends on it (e.g. the search index)."""

import dagster as dg
import pandas as pd

from assets.partitions import upload_batches
from resources.artifacts import ArtifactStore
from resources.warehouse import WarehouseResource
from skillatlas.store.tables import (
    COURSE_JOB_SCORES,
    COURSE_OCCUPATION_SCORES,
    DOCUMENT_SKILLS,
    DOCUMENT_TEXT,
    ITEM_FAILURES,
    ONET_OCCUPATIONS,
    SKILL_TAXONOMY,
    SOC_SKILL_MAP,
    UPLOAD_MANIFEST,
)

FAILURE_RATE_WARN = 0.2  # above this share of failed items in a batch, warn


def _documents(warehouse: WarehouseResource) -> pd.DataFrame:
    # only the columns counted: the table holds every document's full text
    return warehouse.read_table(DOCUMENT_TEXT, columns=["doc_id", "kind"])


@dg.asset_check(asset="course_occupation_scores", blocking=True, description="Every score lies in [0, 1].")
def occupation_scores_in_unit_range(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    scores = warehouse.read_table(COURSE_OCCUPATION_SCORES)
    bad = scores[~scores["score"].between(0, 1)] if not scores.empty else scores
    return dg.AssetCheckResult(passed=bool(len(bad) == 0), metadata={"out_of_range": len(bad), "rows": len(scores)})


@dg.asset_check(asset="course_job_scores", blocking=True, description="Every score lies in [0, 1].")
def job_scores_in_unit_range(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    scores = warehouse.read_table(COURSE_JOB_SCORES)
    bad = scores[~scores["score"].between(0, 1)] if not scores.empty else scores
    return dg.AssetCheckResult(passed=bool(len(bad) == 0), metadata={"out_of_range": len(bad), "rows": len(scores)})


@dg.asset_check(
    asset="course_occupation_scores",
    description="Every course that has skills is scored against occupations.",
)
def every_course_scored(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    scores = warehouse.read_table(COURSE_OCCUPATION_SCORES)
    skills = warehouse.read_table(DOCUMENT_SKILLS, {"kind": "course"}, columns=["doc_id"])
    courses = set(skills["doc_id"])
    scored = set(scores["course_id"]) if not scores.empty else set()
    missing = sorted(courses - scored)
    return dg.AssetCheckResult(
        passed=not missing,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"courses_with_skills": len(courses), "unscored": len(missing), "examples": ", ".join(missing[:10])},
    )


@dg.asset_check(asset="soc_skill_map", blocking=True, description="Every O*NET-SOC code has at least one skill.")
def every_soc_code_mapped(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    soc_map = warehouse.read_table(SOC_SKILL_MAP)
    occupations = warehouse.read_table(ONET_OCCUPATIONS)
    unmapped = sorted(set(occupations["soc_code"]) - set(soc_map["soc_code"])) if not occupations.empty else []
    return dg.AssetCheckResult(
        passed=not unmapped and not occupations.empty,
        metadata={"soc_codes": len(occupations), "unmapped": len(unmapped), "examples": ", ".join(unmapped[:10])},
    )


@dg.asset_check(asset="search_index", description="The index holds exactly one entry per source row.")
def index_count_matches_sources(warehouse: WarehouseResource, artifacts: ArtifactStore) -> dg.AssetCheckResult:
    from skillatlas.index.search import SearchIndex

    documents = _documents(warehouse)
    expected = {
        "course": int((documents["kind"] == "course").sum()) if not documents.empty else 0,
        "job": int((documents["kind"] == "job").sum()) if not documents.empty else 0,
        "occupation": len(warehouse.read_table(ONET_OCCUPATIONS)),
        "skill": len(warehouse.read_table(SKILL_TAXONOMY)),
    }
    index = SearchIndex.open(artifacts.search_index_dir)
    actual = {kind: index.count(kind) for kind in expected}
    return dg.AssetCheckResult(
        passed=actual == expected,
        metadata={
            **{f"expected_{k}": v for k, v in expected.items()},
            **{f"indexed_{k}": v for k, v in actual.items()},
        },
    )


def _run_batches(context: dg.AssetCheckExecutionContext) -> list[str]:
    """The upload batches this run materialises: a per-partition check judges those and nothing else, so a
    batch still being extracted by another run can never fail this one."""
    return list(context.partition_keys)


@dg.asset_check(
    asset="document_text",
    partitions_def=upload_batches,
    description=f"Warns when more than {FAILURE_RATE_WARN:.0%} of the documents of a batch in this run failed to "
    "parse (judges only the run's batches).",
)
def batch_failure_rate(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> dg.AssetCheckResult:
    batches = _run_batches(context)
    manifest = warehouse.read_table(UPLOAD_MANIFEST, {"batch_id": batches}, columns=["batch_id"])
    ledger = warehouse.read_table(
        ITEM_FAILURES, {"asset": DOCUMENT_TEXT, "partition": batches}, columns=["partition"]
    )
    if manifest.empty:
        return dg.AssetCheckResult(passed=True, metadata={"batches": 0})
    totals = manifest.groupby("batch_id").size()
    failed = ledger.groupby("partition").size().reindex(totals.index, fill_value=0) if not ledger.empty else totals * 0
    rates = (failed / totals).fillna(0.0)
    worst = rates.sort_values(ascending=False).head(5)
    return dg.AssetCheckResult(
        passed=bool((rates <= FAILURE_RATE_WARN).all()),
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "batches": len(rates),
            "max_failure_rate": float(rates.max()),
            "worst_batches": dg.MetadataValue.json({k: round(float(v), 3) for k, v in worst.items()}),
        },
    )


@dg.asset_check(
    asset="document_skills",
    partitions_def=upload_batches,
    blocking=True,
    description="Blocks downstream when a batch of this run has documents but yields no skills at all (an "
    "extractor or taxonomy fault). It judges only the run's own batches (a partitioned check): another batch "
    "still being extracted is not a failure.",
)
def every_batch_yields_skills(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
) -> dg.AssetCheckResult:
    batches = _run_batches(context)
    text = warehouse.read_table(DOCUMENT_TEXT, {"batch_id": batches}, columns=["batch_id"])
    skills = warehouse.read_table(DOCUMENT_SKILLS, {"batch_id": batches}, columns=["batch_id"])
    with_docs = set(text["batch_id"]) if not text.empty else set()
    with_skills = set(skills["batch_id"]) if not skills.empty else set()
    empty = sorted(with_docs - with_skills)
    return dg.AssetCheckResult(
        passed=not empty,
        metadata={
            "batches_checked": len(batches),
            "batches_with_documents": len(with_docs),
            "batches_without_skills": ", ".join(empty[:20]) or "none",
        },
    )


ALL_CHECKS = [
    occupation_scores_in_unit_range,
    job_scores_in_unit_range,
    every_course_scored,
    every_soc_code_mapped,
    index_count_matches_sources,
    batch_failure_rate,
    every_batch_yields_skills,
]
