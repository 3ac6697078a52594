"""What the evaluation commands (``eval-extraction``, ``eval-spans``) share on the command line: the parser with
the gold file and the extractor options, reading the gold file, and the metric lines of the report."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from skillatlas.cli.args import bounded_int

__all__ = ["EXTRACTORS", "GoldFileError", "add_eval_parser", "metric_lines", "read_gold_file"]

EXTRACTORS = ("offline", "openai", "cascade")

T = TypeVar("T")


class GoldFileError(ValueError):
    """The gold file is missing or unreadable; the message follows ``error: `` (the command exits 2)."""


def read_gold_file(file: str, read: Callable[[Path], T], errors: tuple[type[Exception], ...],
                   message: str = "{exc}") -> tuple[Path, T]:
    """``file`` as a path and what ``read`` makes of it. :class:`GoldFileError` when it is not a file or ``read``
    raises one of ``errors`` (the message is ``message`` with ``{path}`` and ``{exc}`` filled in)."""
    path = Path(file)
    if not path.is_file():
        raise GoldFileError(f"{path} not found")
    try:
        return path, read(path)
    except errors as exc:
        raise GoldFileError(message.format(path=path, exc=exc)) from exc


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
