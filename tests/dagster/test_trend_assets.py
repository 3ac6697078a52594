"""skill_demand_daily / skill_demand_trends through the warehouse IO manager."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pandas as pd
import sqlalchemy as sa

from assets.trends import skill_demand_daily, skill_demand_trends
from resources.warehouse import WarehouseIOManager, WarehouseResource
from skillatlas.store.tables import DOCUMENT_SKILLS, DOCUMENT_TEXT, SKILL_DEMAND_DAILY


def test_a_day_without_postings_first_does_not_turn_counts_into_text(tmp_path: Path) -> None:
    """The daily schedule can materialise a day without postings before any other: that first write creates
    the table, so its count columns must be numeric, and the trends over later days must still compute
    (found on a fresh-clone `make run`: TEXT columns, then "truediv not supported for str")."""
    url = f"sqlite:///{tmp_path / 'wh.sqlite'}"
    resources = {"io_manager": WarehouseIOManager(url=url), "warehouse": WarehouseResource(url=url)}
    instance = dg.DagsterInstance.ephemeral()
    empty_day, busy_day = "2026-11-30", "2026-11-20"
    # no document tables yet: the day has no postings
    assert dg.materialize([skill_demand_daily], partition_key=empty_day, resources=resources,
                          instance=instance).success
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        types = {c["name"]: str(c["type"]) for c in sa.inspect(conn).get_columns(SKILL_DEMAND_DAILY)}
        assert types["postings"] in ("BIGINT", "INTEGER") and types["share"] in ("FLOAT", "REAL"), types
        pd.DataFrame({"batch_id": "b1", "doc_id": ["d1", "d2"], "kind": "job", "posted_date": busy_day}).to_sql(
            DOCUMENT_TEXT, conn, index=False)
        pd.DataFrame({"batch_id": "b1", "doc_id": ["d1", "d2"], "skill_id": "esco:python", "label": "Python"}).to_sql(
            DOCUMENT_SKILLS, conn, index=False)
    assert dg.materialize([skill_demand_daily], partition_key=busy_day, resources=resources,
                          instance=instance).success
    result = dg.materialize([skill_demand_daily.to_source_asset(), skill_demand_trends], resources=resources,
                            instance=instance, selection=[skill_demand_trends])
    assert result.success
    trends = WarehouseResource(url=url).read_table("skill_demand_trends")
    row = trends[(trends["day"] == busy_day) & (trends["skill_id"] == "esco:python")].iloc[0]
    assert int(row["postings"]) == 2
