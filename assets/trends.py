"""Job-posting skill demand: per posting day, then 7- and 30-day rolling windows and rising skills."""

import dagster as dg
import pandas as pd

from assets.catalog import table_asset
from assets.partitions import DAY_BACKFILL_POLICY, posting_days
from resources.warehouse import WarehouseResource
from skillatlas.reference import sources as reference
from skillatlas.store.tables import (
    DOCUMENT_SKILLS,
    DOCUMENT_TEXT,
    RISING_VS_HOT_TECHNOLOGIES,
    SKILL_DEMAND_DAILY,
    SKILL_DEMAND_DAILY_COLUMNS,
    SKILL_DEMAND_TRENDS,
)

TRENDS_GROUP = "trends"


def postings_skills_for_days(warehouse: WarehouseResource, days: list[str]) -> pd.DataFrame:
    """(doc_id, day, skill_id, label) for job postings posted on `days`."""
    # only the rows and columns needed: never every posting's full text
    text = warehouse.read_table(DOCUMENT_TEXT, {"kind": "job", "posted_date": days}, columns=["doc_id", "posted_date"])
    if text.empty:
        return pd.DataFrame(columns=["doc_id", "day", "skill_id", "label"])
    text = text.drop_duplicates("doc_id")
    skills = warehouse.read_table(
        DOCUMENT_SKILLS, {"doc_id": text["doc_id"].tolist()}, columns=["doc_id", "skill_id", "label"]
    )
    if skills.empty:
        return pd.DataFrame(columns=["doc_id", "day", "skill_id", "label"])
    merged = skills.merge(text.rename(columns={"posted_date": "day"}), on="doc_id")
    return merged[["doc_id", "day", "skill_id", "label"]]


@table_asset(
    SKILL_DEMAND_DAILY, TRENDS_GROUP, "scoring", partition_expr="day",
    partitions_def=posting_days, backfill_policy=DAY_BACKFILL_POLICY,
    deps=[dg.AssetDep(DOCUMENT_SKILLS, partition_mapping=dg.AllPartitionMapping())],
)
def skill_demand_daily(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> pd.DataFrame:
    """For each posting day: how many job postings asked for each skill, and the share of that day's postings."""
    from skillatlas.score.trends import daily_skill_demand

    window = context.partition_time_window
    days = pd.date_range(window.start.date(), window.end.date(), inclusive="left").strftime("%Y-%m-%d").tolist()
    daily = daily_skill_demand(postings_skills_for_days(warehouse, days))
    # typed even when empty: the first write creates the table, and a day without postings (a daily schedule tick)
    # must not create it with TEXT count columns
    daily = daily[SKILL_DEMAND_DAILY_COLUMNS]
    daily["day"] = daily["day"].astype(str)
    context.add_output_metadata({"days": len(days), "rows": len(daily), "skills": int(daily["skill_id"].nunique())})
    return daily


@table_asset(
    SKILL_DEMAND_TRENDS, TRENDS_GROUP, "scoring",
    ins={SKILL_DEMAND_DAILY: dg.AssetIn(partition_mapping=dg.AllPartitionMapping())},
    automation_condition=dg.AutomationCondition.eager(),
)
def skill_demand_trends(context: dg.AssetExecutionContext, skill_demand_daily: pd.DataFrame) -> pd.DataFrame:
    """Per skill and day: postings in the trailing 7- and 30-day windows, their share of postings, a growth
    score (recent window against the one before) and a `rising` flag for skills with enough postings."""
    from skillatlas.score.trends import rolling_trends

    trends = rolling_trends(skill_demand_daily)
    metadata: dict[str, object] = {"rows": len(trends), "days": int(trends["day"].nunique()) if len(trends) else 0}
    if "rising" in trends.columns and len(trends):
        latest = trends[trends["day"] == trends["day"].max()]
        metadata["rising_skills_latest_day"] = int(latest["rising"].sum())
    context.add_output_metadata(metadata)
    return trends


@table_asset(RISING_VS_HOT_TECHNOLOGIES, TRENDS_GROUP, "scoring", automation_condition=dg.AutomationCondition.eager())
def rising_vs_hot_technologies(
    context: dg.AssetExecutionContext, skill_demand_trends: pd.DataFrame, skill_taxonomy: pd.DataFrame
) -> pd.DataFrame:
    r"""Skills rising in job postings on the latest day set against O\*NET's Hot Technology and In Demand
    flags: category both / rising_only / hot_only, with growth and recent posting counts."""
    from assets.reference import decode_taxonomy
    from skillatlas.score.trends import compare_hot_technologies

    comparison = compare_hot_technologies(
        skill_demand_trends, reference.load_onet_technology_skills(), decode_taxonomy(skill_taxonomy)
    )
    summary = comparison.attrs.get("summary", {})
    context.add_output_metadata(
        {k: v for k, v in summary.items() if isinstance(v, int | float | str) and not isinstance(v, bool)}
    )
    comparison.attrs = {}
    return comparison
