"""undo_skill_merge_job: reverse a near-duplicate skill merge (`skill_merge_map` keeps the history).

Shared helpers: `jobs.operator`.
"""

from typing import Any

import dagster as dg
from pydantic import Field

from jobs.operator import config_error, operator_job, operator_op, report_change
from resources.warehouse import WarehouseResource
from skillatlas.store.tables import SKILL_MERGE_MAP


class UndoMergeConfig(dg.Config):
    skill_id: str = Field(
        description="The merged skill, e.g. onet:python (asset skill_merge_map); a cluster's canonical skill "
        "dissolves the whole cluster."
    )


@operator_op("scoring")
def undo_skill_merge(
    context: dg.OpExecutionContext, config: UndoMergeConfig, warehouse: WarehouseResource
) -> dg.Output[None]:
    """Reverse one near-duplicate merge in `skill_merge_map` (history kept: rows are stamped `undone_at`);
    the next sweep keeps it reversed. Scores pick it up at their next rebuild."""
    from skillatlas.reference.dedup import undo_merge

    skill_id = config.skill_id.strip()
    if not skill_id:
        raise config_error("skill_id is empty: give the id of a merged skill, e.g. onet:python")
    merge_map = warehouse.read_table(SKILL_MERGE_MAP)
    if merge_map.empty:
        raise config_error(f"table '{SKILL_MERGE_MAP}' is missing or empty: no merges to undo (materialise it first)")
    try:
        updated = undo_merge(merge_map, skill_id)
    except KeyError:
        rows = merge_map[(merge_map["skill_id"] == skill_id) | (merge_map["canonical_id"] == skill_id)]
        detail = "its merge was already undone" if len(rows) else "it is not in the merge map"
        raise config_error(f"skill {skill_id!r} is not merged: {detail}") from None
    newly_undone = int((updated["undone_at"].notna() & merge_map["undone_at"].isna()).sum())
    warehouse.replace_rows(SKILL_MERGE_MAP, updated, {})
    summary: dict[str, Any] = {"skill_id": skill_id, "rows_undone": newly_undone, "rows": len(updated)}
    report_change(context, SKILL_MERGE_MAP, None, summary)
    context.log.info(f"undid merge of {skill_id}: {newly_undone} row(s) stamped undone_at")
    return dg.Output(None, metadata=summary)


undo_skill_merge_job = operator_job(undo_skill_merge, "scoring", description=(
    "Reverse a near-duplicate skill merge (skill_merge_map keeps the history)."
))
