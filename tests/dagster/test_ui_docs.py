"""What the UI documents (issue 13): described config fields with scaffold defaults, column schemas on every table
asset, owners, storage kinds, code references, descriptions that render, previews, the failed-items view."""

import re
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from assets.catalog import SCHEMAS, table_kinds, top_occupations_preview, top_skills_preview, warehouse_kind
from definitions import defs
from skillatlas.store.tables import (
    ITEM_FAILURES,
    LEDGER_COLUMNS,
    SKILL_COLUMNS,
    SKILL_DEMAND_DAILY_COLUMNS,
    TEXT_COLUMNS,
)

NOT_TABLES = {"taxonomy_vectors", "search_index"}  # an .npz file and a tantivy index, not warehouse tables


def op_config_fields(job: dg.JobDefinition) -> dict[str, dict[str, object]]:
    ops = job.run_config_schema.config_type.fields.get("ops")
    out: dict[str, dict[str, object]] = {}
    for op_name, field in (ops.config_type.fields.items() if ops else []):
        config = field.config_type.fields.get("config") if hasattr(field.config_type, "fields") else None
        if config is not None and hasattr(config.config_type, "fields"):
            out[op_name] = dict(config.config_type.fields)
    return out


def test_every_config_field_of_every_job_is_described_with_a_default() -> None:
    seen = 0
    for job in defs.resolve_all_job_defs():
        for op_name, fields in op_config_fields(job).items():
            for name, field in fields.items():
                seen += 1
                assert field.description and len(field.description) > 15, f"{job.name}.{op_name}.{name}: describe it"
                assert field.is_required or field.default_provided, f"{job.name}.{op_name}.{name}: no default"
    assert seen >= 12  # the five operator jobs have 12 fields between them


@pytest.mark.parametrize(
    "job_name",
    ["reextract_job", "retry_failed_items_job", "rollback_extraction_job", "undo_skill_merge_job", "cleanup_job"],
)
def test_operator_jobs_have_described_config(job_name: str) -> None:
    fields = op_config_fields(defs.resolve_job_def(job_name))
    assert fields, f"{job_name} has no op config"
    for op_fields in fields.values():
        assert all(f.description for f in op_fields.values())


def test_reextract_limit_is_in_the_scaffold() -> None:
    (fields,) = op_config_fields(defs.resolve_job_def("reextract_job")).values()
    assert fields["limit"].default_value == 500


def test_column_schema_on_every_table_asset() -> None:
    graph = defs.resolve_asset_graph()
    tables = set()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        name = key.to_user_string()
        if name in NOT_TABLES:
            assert "dagster/column_schema" not in node.metadata
            continue
        tables.add(name)
        schema = node.metadata.get("dagster/column_schema")
        assert isinstance(schema, dg.TableSchema), f"{name} has no column schema"
        for column in schema.columns:
            assert column.description and column.type, f"{name}.{column.name}: describe it"
        assert warehouse_kind() in node.kinds, f"{name}: kinds {node.kinds} name no storage"
    assert tables == set(SCHEMAS)
    assert any(c.constraints.other for c in SCHEMAS["document_skills"].columns)  # allowed values are shown


def test_schemas_match_the_columns_the_code_writes() -> None:
    from skillatlas.health import JOB_COLUMNS
    from skillatlas.reference.dedup import MERGE_MAP_COLUMNS
    from skillatlas.reference.soc_map import SOC_MAP_COLUMNS
    from skillatlas.reference.taxonomy import TAXONOMY_COLUMNS
    from skillatlas.score.alignment import SCORE_COLUMNS

    def names(table: str) -> list[str]:
        return [c.name for c in SCHEMAS[table].columns]

    assert names("document_text") == TEXT_COLUMNS and names("document_skills") == SKILL_COLUMNS
    assert names("course_occupation_scores") == SCORE_COLUMNS == names("course_job_scores")
    assert names("soc_skill_map") == SOC_MAP_COLUMNS and names("skill_taxonomy") == TAXONOMY_COLUMNS
    assert names("skill_merge_map") == MERGE_MAP_COLUMNS and names("skill_demand_daily") == SKILL_DEMAND_DAILY_COLUMNS
    assert names("pipeline_health") == [*JOB_COLUMNS, "as_of"]
    assert names("failed_items") == [*LEDGER_COLUMNS, "run_url"]


def test_owners_code_references_and_descriptions_that_render() -> None:
    graph = defs.resolve_asset_graph()
    unescaped_star = re.compile(r"(?<!\\)\*")
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.owners, f"{key} has no owner"
        assert "dagster/code_references" in node.metadata, f"{key} has no code reference"
        # a lone '*' pair renders as italics in the UI ("O*NET ... O*NET")
        assert not unescaped_star.search(node.description or ""), f"{key}: escape '*' in its description"
    sensors = {s.name: s for s in defs.sensors}
    assert sensors["default_automation_sensor"].description
    assert sensors["run_recovery_sensor"].description


def test_storage_kind_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SKILLATLAS_ENV", raising=False)
    monkeypatch.delenv("SKILLATLAS_WAREHOUSE_URL", raising=False)
    assert table_kinds() == {"sqlite", "pandas"}
    monkeypatch.setenv("SKILLATLAS_WAREHOUSE_URL", "postgresql+psycopg://u@h/db")
    assert table_kinds() == {"postgres", "pandas"}


def test_previews() -> None:
    skills = pd.DataFrame(
        {"batch_id": ["b1", "b1", "b1", "b2"], "doc_id": ["d1", "d2", "d1", "d3"],
         "skill_id": ["s:py", "s:py", "s:sql", "s:py"], "label": ["python", "python", "SQL", "python"]}
    )
    md = top_skills_preview(skills)
    assert "**b1** (2 documents)" in md and "| python | 2 |" in md and "| SQL | 1 |" in md and "**b2**" in md
    scores = pd.DataFrame(
        {"course_id": ["c1", "c1", "c1", "c1"], "target_id": ["29-1141.00", "15-1252.00", "11-1011.00", "x"],
         "score": [0.4, 0.6, 0.1, 0.05], "tier": ["A", "A", "C", "C"]}
    )
    md = top_occupations_preview(scores)
    rows = [line for line in md.splitlines() if line.startswith("| c1")]
    assert len(rows) == 3 and "15-1252.00" in rows[0] and "0.600" in rows[0]
    assert "Registered Nurses" in md  # titles come from the shipped O*NET occupations


def test_failed_items_asset_links_runs_and_summarises_batches(
    tmp_path: Path, small_inbox: Path, instance: dg.DagsterInstance
) -> None:
    from assets.failed_items import failed_items
    from resources.notifier import NotifierResource
    from skillatlas.ingest.batches import ItemFailure
    from skillatlas.store.batches import failures_frame
    from tests.conftest import make_resources

    resources = make_resources(
        tmp_path / "d", small_inbox, notifier=NotifierResource(webserver_url="https://dagster.example.org")
    )
    resources["warehouse"].append_rows(ITEM_FAILURES, failures_frame("document_text", "run-aaaa1111", [
        ItemFailure("b20261201-0001", f"jobs/bad{i}.pdf", "invalid_format", "corrupt PDF") for i in range(5)
    ] + [ItemFailure("b20261201-0001", "jobs/empty.txt", "no_extractable_text", "empty file")]))
    result = dg.materialize([failed_items], resources=resources, instance=instance)
    assert result.success
    metadata = result.asset_materializations_for_node("failed_items")[0].metadata
    assert metadata["items_failed"].value == 6 and metadata["items_failed_invalid_format"].value == 5
    summary = metadata["per_batch"].value
    assert "**batch b20261201-0001**: 6 failed item(s)" in summary
    assert "| invalid_format | 5 |" in summary and summary.count("jobs/bad") == 3  # first 3 examples
    assert "(https://dagster.example.org/runs/run-aaaa1111)" in summary
    assert isinstance(metadata["dagster/column_schema"].value, dg.TableSchema)
    table = resources["warehouse"].read_table("failed_items")
    assert (table["run_url"] == "https://dagster.example.org/runs/run-aaaa1111").all()
