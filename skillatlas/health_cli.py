"""``skillatlas health [--json]``: pipeline health from the warehouse, for operators at a terminal.

Reads table ``pipeline_health`` (one row per job, written by the ``pipeline_health`` asset: runs, failures,
failure rate, retried runs, p50/p95 durations, queued, running, oldest running age) and table
``item_failures`` (open failed items, counted by error kind and asset) from ``SKILLATLAS_WAREHOUSE_URL``,
default the embedded SQLite warehouse ``<data dir>/warehouse.sqlite``.

Exit codes: 0 ok, 1 warehouse or table missing (the message says to run ``make run``), 2 bad arguments.
No Dagster imports: this runs without loading the code location.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any, TextIO

__all__ = ["HEALTH_TABLE", "LEDGER_TABLE", "HealthError", "cmd_health", "load_health", "register"]

HEALTH_TABLE = "pipeline_health"
LEDGER_TABLE = "item_failures"
_HINT = "run `make run` first"


class HealthError(Exception):
    """A user-facing error (printed without a traceback)."""


def _default_url() -> str:
    from skillatlas.paths import default_warehouse_url

    return default_warehouse_url()


def _redact(url: str) -> str:
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - never print an unparseable URL verbatim
        return "<warehouse url>"


def _clean(value: Any) -> Any:
    """JSON-safe scalars: NaN -> None, numpy numbers -> Python numbers."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def load_health(url: str) -> dict[str, Any]:
    """{"jobs": [per-job dicts], "items_failed": n, "items_failed_by_kind": {...}, "items_failed_by_asset": {...}}.
    Raises HealthError when the warehouse or the pipeline_health table does not exist."""
    import pandas as pd
    from sqlalchemy import create_engine, inspect, select, table
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite") and parsed.database not in (None, "", ":memory:"):
        if not Path(parsed.database).exists():  # do not let sqlite create an empty file
            raise HealthError(f"warehouse {parsed.database} does not exist yet; {_HINT}")
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            if HEALTH_TABLE not in tables:
                raise HealthError(
                    f"table {HEALTH_TABLE} does not exist yet in the warehouse {_redact(url)}; {_HINT} "
                    "(or materialise the pipeline_health asset: health_job)"
                )
            health = pd.read_sql(select("*").select_from(table(HEALTH_TABLE)), conn)
            ledger = (
                pd.read_sql(select("*").select_from(table(LEDGER_TABLE)), conn)
                if LEDGER_TABLE in tables
                else pd.DataFrame(columns=["asset", "error_kind"])
            )
    except SQLAlchemyError as exc:
        raise HealthError(f"warehouse query failed: {exc.__class__.__name__}: {exc}") from exc
    finally:
        engine.dispose()
    jobs = [{k: _clean(v) for k, v in row.items()} for row in health.sort_values("job_name").to_dict("records")]
    by_kind = {str(k): int(v) for k, v in ledger["error_kind"].value_counts().sort_index().items()}
    by_asset = {str(k): int(v) for k, v in ledger["asset"].value_counts().sort_index().items()}
    return {
        "jobs": jobs,
        "items_failed": int(len(ledger)),
        "items_failed_by_kind": by_kind,
        "items_failed_by_asset": by_asset,
    }


def _num(value: Any, fmt: str = "{:.1f}") -> str:
    if value is None:
        return "-"
    return fmt.format(value)


def _age(seconds: Any) -> str:
    if not seconds:
        return "-"
    seconds = float(seconds)
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"


def render(report: dict[str, Any], out: TextIO) -> None:
    header = ["job", "runs", "failed", "fail rate", "retried", "p50 s", "p95 s", "queued", "running", "oldest running"]
    rows = [
        [
            str(j.get("job_name")),
            str(j.get("runs", 0)),
            str(j.get("failed", 0)),
            f"{100 * float(j.get('failure_rate') or 0):.1f}%",
            str(j.get("retried_runs", 0)),
            _num(j.get("p50_duration_s")),
            _num(j.get("p95_duration_s")),
            str(j.get("queued", 0)),
            str(j.get("running", 0)),
            _age(j.get("oldest_running_age_s")),
        ]
        for j in report["jobs"]
    ]
    if not rows:
        out.write("no runs recorded yet\n")
    else:
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        for r in [header, *rows]:
            cells = [r[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(r[1:], widths[1:], strict=True)]
            out.write("  ".join(cells).rstrip() + "\n")
    out.write(f"\nitems failed (open): {report['items_failed']}\n")
    for kind, count in report["items_failed_by_kind"].items():
        out.write(f"  {kind:<24} {count}\n")
    if report["items_failed"]:
        out.write("retry them with retry_failed_items_job (run_ids or partitions)\n")


def cmd_health(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    url = getattr(args, "warehouse_url", None) or _default_url()
    try:
        report = load_health(url)
    except HealthError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.json:
        json.dump(report, out, ensure_ascii=False, indent=2)
        out.write("\n")
        return 0
    render(report, out)
    return 0


def register(subparsers: Any) -> None:
    """Add ``health`` to an ``argparse`` subparsers object."""
    p = subparsers.add_parser(
        "health", help="per job: runs, failure rate, retries, p50/p95 duration, queue, stuck runs; failed items"
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--warehouse-url", default=None, help="override SKILLATLAS_WAREHOUSE_URL")
    p.set_defaults(func=cmd_health)
