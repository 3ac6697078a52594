"""Failed items in view: the open error ledger as an asset, with run links and a summary per batch.

Rows come from `item_failures` (one per failed document, replaced when its batch is re-processed or the item is
retried); recent failed runs come from `run_failures` (written by the run-failure sensor); refused uploads (symlinks
out of the inbox, FIFOs, oversized or unreadable files, ...) come from the inbox sensor's `skipped_uploads`.
"""

from typing import Any

import dagster as dg
import pandas as pd

from assets.catalog import OPS_OWNERS, SCHEMAS, table_kinds, table_metadata
from resources.notifier import NotifierResource
from resources.warehouse import WarehouseResource
from skillatlas.store.tables import FAILED_ITEMS, ITEM_FAILURES, LEDGER_COLUMNS, RUN_FAILURES, SKIPPED_UPLOADS

EXAMPLES_PER_KIND = 3
BATCHES_SHOWN = 20
RUN_FAILURES_SHOWN = 10


def _md(value: object) -> str:
    return str(value).replace("|", "\\|").replace("*", "\\*").replace("\n", " ")


def batch_summary_markdown(ledger: pd.DataFrame, run_url: dict[str, str]) -> str:
    """Per batch (newest failure first): per error kind the count and the first examples, each linked to its run."""
    if ledger.empty:
        return "_no open failed items_"
    order = ledger.groupby("partition")["failed_at"].max().sort_values(ascending=False)
    parts = []
    for batch in order.index[:BATCHES_SHOWN]:
        rows = ledger[ledger["partition"] == batch].sort_values(["error_kind", "item"])
        lines = [f"**batch {_md(batch)}**: {len(rows)} failed item(s)", "", "| kind | count | first examples |",
                 "|---|---|---|"]
        for kind, group in rows.groupby("error_kind", sort=True):
            examples = "; ".join(
                f"{_md(r.item)} ({r.asset}, [run {str(r.run_id)[:8]}]({run_url[r.run_id]})): {_md(r.message)[:120]}"
                for r in group.head(EXAMPLES_PER_KIND).itertuples(index=False)
            )
            lines.append(f"| {_md(kind)} | {len(group)} | {examples} |")
        parts.append("\n".join(lines))
    if len(order) > BATCHES_SHOWN:
        parts.append(f"... and {len(order) - BATCHES_SHOWN} more batch(es): see the table failed_items")
    parts.append("Retry them with retry_failed_items_job (config run_ids or partitions).")
    return "\n\n".join(parts)


def refused_uploads_markdown(skipped: pd.DataFrame) -> str:
    """The latest refused inbox entries with their reason (each path and reason is recorded once)."""
    if skipped.empty:
        return "_no refused uploads_"
    latest = skipped.sort_values("last_seen_at", ascending=False).head(RUN_FAILURES_SHOWN * 2)
    lines = ["| last seen | path | reason |", "|---|---|---|"]
    for r in latest.to_dict("records"):
        lines.append(f"| {r.get('last_seen_at')} | {_md(r.get('relpath'))} | {_md(str(r.get('reason'))[:160])} |")
    if len(skipped) > len(latest):
        lines.append(f"| ... | {len(skipped) - len(latest)} more in table {SKIPPED_UPLOADS} | |")
    return "\n".join(lines)


def run_failures_markdown(failures: pd.DataFrame, notifier: NotifierResource) -> str:
    if failures.empty:
        return "_no failed runs recorded_"
    failures = failures.sort_values("recorded_at", ascending=False).head(RUN_FAILURES_SHOWN)
    lines = ["| when | job | partition | step | error | run |", "|---|---|---|---|---|---|"]
    for r in failures.to_dict("records"):
        lines.append(
            f"| {r.get('recorded_at')} | {r.get('job_name')} | {_md(r.get('partition') or '-')} | "
            f"{_md(r.get('failed_step') or '-')} | {_md(str(r.get('message') or '')[:160])} | "
            f"[{str(r['run_id'])[:8]}]({notifier.run_url(str(r['run_id']))}) |"
        )
    return "\n".join(lines)


@dg.asset(
    group_name="operations",
    kinds=table_kinds(),
    owners=OPS_OWNERS,
    metadata=table_metadata(FAILED_ITEMS),
    tags={"skillatlas/queue": "health"},
)
def failed_items(warehouse: WarehouseResource, notifier: NotifierResource) -> dg.Output[pd.DataFrame]:
    """The open failed items of the upload pipeline (documents that could not be parsed or extracted), one row per
    item with its error kind, message, attempts and a link to the run that recorded it; the metadata summarises
    them per batch (kind, count, first examples) and lists the latest failed runs with their first error.
    Refreshed with pipeline_health (health_job, every 5 minutes)."""
    ledger = warehouse.read_table(ITEM_FAILURES)
    if ledger.empty:
        ledger = pd.DataFrame(columns=LEDGER_COLUMNS)
    run_url = {run_id: notifier.run_url(str(run_id)) for run_id in ledger["run_id"].unique()}
    out = ledger.assign(run_url=ledger["run_id"].map(run_url))
    out = out[[c.name for c in SCHEMAS[FAILED_ITEMS].columns if c.name in out.columns]]
    by_kind = out["error_kind"].value_counts().sort_index()
    skipped = warehouse.read_table(SKIPPED_UPLOADS, columns=["relpath", "reason", "last_seen_at"])
    metadata: dict[str, Any] = {
        "items_failed": len(out),
        "batches_with_failures": int(out["partition"].nunique()),
        **{f"items_failed_{kind}": int(count) for kind, count in by_kind.items()},
        "per_batch": dg.MetadataValue.md(batch_summary_markdown(out, run_url)),
        "uploads_refused": len(skipped),
        "refused_uploads": dg.MetadataValue.md(refused_uploads_markdown(skipped)),
        "recent_failed_runs": dg.MetadataValue.md(
            run_failures_markdown(warehouse.read_table(RUN_FAILURES), notifier)
        ),
    }
    return dg.Output(out.reset_index(drop=True), metadata=metadata)
