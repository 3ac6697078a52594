"""The same assets on the PostgreSQL warehouse produce the same tables as on the embedded SQLite one."""

from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from resources.warehouse import WarehouseIOManager, WarehouseResource
from tests.conftest import run_sample_pipeline
from tests.faults.helpers import temporary_database
from tests.faults.test_postgres_connection_kill import copy_table

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

REFERENCE_TABLES = ("skill_taxonomy", "onet_occupations", "onet_text_skills")

# table -> (key columns to sort by, columns compared); batch ids differ by design (they carry a timestamp)
COMPARED = {
    "upload_manifest": (["relpath"], ["relpath", "doc_id", "kind", "sha256", "size_bytes"]),
    "document_text": (["doc_id"], ["doc_id", "relpath", "kind", "format", "title", "posted_date", "char_count"]),
    "document_skills": (["doc_id", "skill_id"], ["doc_id", "skill_id", "method", "confidence", "evidence_start"]),
    "item_failures": (["item"], ["asset", "item", "error_kind", "message"]),
    "soc_skill_map": (["soc_code", "skill_id"], ["soc_code", "skill_id", "weight", "sources"]),
    "course_occupation_scores": (["course_id", "rank"], ["course_id", "target_id", "rank", "score", "tier"]),
    "skill_demand_daily": (["day", "skill_id"], ["day", "skill_id", "postings", "share"]),
}


def normalised(frame: pd.DataFrame, keys: list[str], columns: list[str]) -> pd.DataFrame:
    out = frame[columns].sort_values(keys).reset_index(drop=True)
    for column in out.columns:
        if pd.api.types.is_float_dtype(out[column]):
            out[column] = out[column].round(6)
        else:
            out[column] = out[column].astype(str)
    return out


def test_postgres_warehouse_matches_sqlite(
    sample_pipeline, reference_state: Path, postgres_url: str, tmp_path: Path
) -> None:
    _, _, sqlite_warehouse, sqlite_ok, _ = sample_pipeline
    assert sqlite_ok
    with temporary_database(postgres_url, "skillatlas_backends") as url:
        for table in REFERENCE_TABLES:
            copy_table(f"sqlite:///{reference_state / 'warehouse.sqlite'}", url, table)
        defs, resources, _, run_pipeline = run_sample_pipeline(
            tmp_path, reference_state,
            {"io_manager": WarehouseIOManager(url=url), "warehouse": WarehouseResource(url=url)},
        )
        with dg.instance_for_test() as instance:
            assert run_pipeline(defs, instance, reference=False)
        pg_warehouse = resources["warehouse"]
        for table, (keys, columns) in COMPARED.items():
            lite = normalised(sqlite_warehouse.read_table(table), keys, columns)
            pg = normalised(pg_warehouse.read_table(table), keys, columns)
            assert len(lite) > 0 or table == "item_failures", table
            pd.testing.assert_frame_equal(lite, pg, obj=table)
