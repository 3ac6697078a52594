"""Range-checked numeric command-line arguments: a clear argparse error instead of a crash further down
(e.g. tantivy panics on a limit that does not fit its 64-bit counters)."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def bounded_int(low: int, high: int) -> Callable[[str], int]:
    """An argparse ``type=`` accepting integers in [low, high]; anything else exits 2 with the range."""

    def parse(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{raw!r} is not an integer") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is out of range [{low}, {high}]")
        return value

    parse.__name__ = "integer"  # argparse names the type in its messages
    return parse
