"""``skillatlas health [--window 1h|24h|7d] [--json]``: pipeline health computed live from run storage.

The Dagster side of the command: it opens the Dagster instance (``DAGSTER_HOME``, default the project's
``.dagster/`` like ``make``) and computes health from its run records at the moment it is called, so what it
prints is never older than the call; it prints that moment ("as of"). Failed items come from the warehouse
(``SKILLATLAS_WAREHOUSE_URL``, default the embedded SQLite warehouse). Dagster is imported only when the command
runs, so the other subcommands do not pay for it.

Exit codes: 0 ok, 1 no Dagster instance, 2 bad arguments.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any, TextIO

from skillatlas.health import WINDOWS

__all__ = ["cmd_health", "register"]


def _dagster_home(args: argparse.Namespace) -> Path:
    from skillatlas.paths import data_dir

    return Path(args.dagster_home or os.environ.get("DAGSTER_HOME") or data_dir())


def cmd_health(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    home = _dagster_home(args)
    if not home.is_dir():
        print(f"error: no Dagster instance at {home} (set DAGSTER_HOME); run `make run` first", file=sys.stderr)
        return 1
    import warnings

    import dagster as dg

    from assets.health import live_report
    from skillatlas.cli.health import load_ledger, render, report_json
    from skillatlas.paths import default_warehouse_url

    warnings.filterwarnings("ignore", category=dg.BetaWarning)
    ledger, history, note = load_ledger(args.warehouse_url or default_warehouse_url())
    os.environ["DAGSTER_HOME"] = str(home.resolve())
    with dg.DagsterInstance.get() as instance:
        report = live_report(instance, history)
    data = report_json(report, ledger, args.window)
    if args.json:
        json.dump({**data, "note": note}, out, ensure_ascii=False, indent=2)
        out.write("\n")
        return 0
    render(data, out, note)
    return 0


def register(subparsers: Any) -> None:
    """Add ``health`` to an ``argparse`` subparsers object."""
    p = subparsers.add_parser(
        "health",
        help="live from run storage: per job failure rate, retries, p50/p95 queue wait and run time; "
        "queue depth per work queue; failed items",
    )
    p.add_argument("--window", choices=list(WINDOWS), default="24h", help="runs that ended in this window")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--warehouse-url", default=None, help="override SKILLATLAS_WAREHOUSE_URL")
    p.add_argument("--dagster-home", default=None, help="override DAGSTER_HOME (default: the project's .dagster)")
    p.set_defaults(func=cmd_health)
