"""What the evaluation commands (``eval-extraction``, ``eval-spans``) share on the command line: the parser with
the gold file and the extractor options, and the metric lines of the report."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from skillatlas.cli.args import bounded_int

__all__ = ["EXTRACTORS", "add_eval_parser", "metric_lines"]

EXTRACTORS = ("offline", "openai", "cascade")


def add_eval_parser(subparsers: Any, name: str, *, help: str, description: str | None, file_help: str,
                    max_span_default: int | None, max_span_help: str) -> argparse.ArgumentParser:
    """The ``name`` subcommand with its gold ``file``, ``--extractor`` and ``--max-span-tokens`` (1-4)."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        name, help=help, description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("file", help=file_help)
    p.add_argument("--extractor", choices=list(EXTRACTORS), default="offline")
    p.add_argument("--max-span-tokens", type=bounded_int(1, 4), default=max_span_default, help=max_span_help)
    return p


def metric_lines(metrics: Sequence[tuple[str, float]]) -> str:
    """One indented ``label  value`` line per metric, the values aligned two spaces after the longest label."""
    width = max((len(label) for label, _ in metrics), default=0) + 2
    return "\n".join(f"  {label:<{width}}{value:.4f}" for label, value in metrics)
