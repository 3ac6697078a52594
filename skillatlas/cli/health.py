"""What ``skillatlas health`` prints, and the failed-item ledger it reads from the warehouse.

The figures are computed live from Dagster's run storage by the ``health`` command (``assets/health_cli.py``,
the Dagster layer); this module only reads the warehouse ledger (SQLAlchemy, no Dagster) and renders a report
as text or JSON, so it stays testable without an instance.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

__all__ = ["HISTORY_TABLE", "LEDGER_TABLE", "HealthError", "load_ledger", "render", "report_json"]

LEDGER_TABLE = "item_failures"
HISTORY_TABLE = "item_failure_history"
_HINT = "run `make run` first"


class HealthError(Exception):
    """A user-facing error (printed without a traceback)."""


def load_ledger(url: str) -> tuple[pd.DataFrame, pd.DataFrame, str | None]:
    """(open item failures, item failure history, a note when the warehouse could not be read). A missing
    warehouse is not an error here: run health does not depend on it."""
    from sqlalchemy import create_engine, inspect, select, table
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    empty = pd.DataFrame(columns=["asset", "partition", "error_kind", "attempts", "failed_at"])
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite") and parsed.database not in (None, "", ":memory:"):
        if not Path(parsed.database).exists():  # do not let sqlite create an empty file
            return empty, empty, f"warehouse {parsed.database} does not exist yet ({_HINT}): no item figures"
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            frames = [
                pd.read_sql(select("*").select_from(table(name)), conn) if name in tables else empty
                for name in (LEDGER_TABLE, HISTORY_TABLE)
            ]
    except SQLAlchemyError as exc:
        return empty, empty, f"warehouse query failed ({exc.__class__.__name__}): no item figures"
    finally:
        engine.dispose()
    return frames[0], frames[1], None


def _clean(value: Any) -> Any:
    """JSON-safe scalars: NaN -> None, numpy numbers -> Python numbers."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def report_json(report: dict[str, Any], ledger: pd.DataFrame, window: str) -> dict[str, Any]:
    jobs = report["jobs"]
    jobs = jobs[jobs["window"] == window] if not jobs.empty else jobs
    return {
        "as_of": report["as_of_iso"],
        "window": window,
        "totals": {k: _clean(v) for k, v in report["windows"][window].items()},
        "jobs": [{k: _clean(v) for k, v in row.items()} for row in jobs.drop(columns="window").to_dict("records")],
        "queues": [{k: _clean(v) for k, v in row.items()} for row in report["queues"].to_dict("records")],
        "items_failed": int(len(ledger)),
        "items_failed_by_kind": {
            str(k): int(v) for k, v in ledger["error_kind"].value_counts().sort_index().items()
        },
        "items_failed_by_asset": {str(k): int(v) for k, v in ledger["asset"].value_counts().sort_index().items()},
    }


def _num(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{float(value):.1f}"


def _age(seconds: Any) -> str:
    if not seconds:
        return "-"
    seconds = float(seconds)
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"


def _table(header: list[str], rows: list[list[str]], out: TextIO) -> None:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, *rows]:
        cells = [r[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(r[1:], widths[1:], strict=True)]
        out.write("  ".join(cells).rstrip() + "\n")


def render(data: dict[str, Any], out: TextIO, note: str | None = None) -> None:
    """The text report of ``report_json`` output."""
    as_of = datetime.fromisoformat(data["as_of"]).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    window = data["window"]
    out.write(f"pipeline health as of {as_of} (live from run storage), runs that ended in the last {window}\n\n")
    header = ["job", "runs", "ok", "failed", "fail rate", "canceled", "launch fail", "run retries",
              "step retries", "wait p50/p95 s", "run p50/p95 s", "queued", "running", "oldest running"]
    rows = [
        [
            str(j["job_name"]), str(j["runs"]), str(j["succeeded"]), str(j["failed"]),
            f"{100 * float(j['failure_rate'] or 0):.1f}%", str(j["canceled"]), str(j["launch_failures"]),
            str(j["run_retries"]), str(j["step_retries"]),
            f"{_num(j['p50_queue_wait_s'])}/{_num(j['p95_queue_wait_s'])}",
            f"{_num(j['p50_run_time_s'])}/{_num(j['p95_run_time_s'])}",
            str(j["queued"]), str(j["running"]), _age(j["oldest_running_age_s"]),
        ]
        for j in data["jobs"]
    ]
    if rows:
        _table(header, rows, out)
    else:
        out.write(f"no runs ended in the last {window} and none in flight\n")
    t = data["totals"]
    out.write(
        f"\nall jobs: {t['runs']} runs, failure rate {100 * float(t['failure_rate'] or 0):.1f}% "
        f"(excl. {t['canceled']} canceled, {t['launch_failures']} launch failures), "
        f"{t['run_retries']} run retries, {t['step_retries']} step retries, {t['item_retries']} item retries\n"
    )
    out.write("\nwork queues now\n")
    if data["queues"]:
        _table(
            ["queue", "queued", "running", "oldest queued", "oldest queued run"],
            [[q["queue"], str(q["queued"]), str(q["running"]), _age(q["oldest_queued_age_s"]),
              q["oldest_queued_run_id"] or "-"] for q in data["queues"]],
            out,
        )
    else:
        out.write("  all queues empty\n")
    out.write(f"\nitems failed (open): {data['items_failed']}\n")
    for kind, count in data["items_failed_by_kind"].items():
        out.write(f"  {kind:<24} {count}\n")
    if data["items_failed"]:
        out.write("retry them with retry_failed_items_job (run_ids or partitions)\n")
    if note:
        out.write(f"note: {note}\n")
