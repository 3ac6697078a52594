"""What every reader shares: the :class:`ParsedDocument` result and the short wording of errors and sizes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

__all__ = ["ParsedDocument", "fmt_size", "reason"]


@dataclass(frozen=True)
class ParsedDocument:
    text: str
    format: str  # "pdf" | "docx" | "html" | "txt"
    title: str | None
    posted_date: date | None
    page_count: int | None
    truncated: bool = False  # text cut at max_chars, or PDF cut at PDF_MAX_PAGES / the time budget


def fmt_size(n: int) -> str:
    """Human size with decimal units: 1.2 GB, 200 MB, 3.4 kB."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            value = n / scale
            return f"{value:.1f} {unit}" if value < 10 and value != int(value) else f"{value:.0f} {unit}"
    return f"{n} bytes"


def reason(exc: BaseException) -> str:
    """An exception as one line of at most 200 characters (its type name when it has no message)."""
    text = " ".join(str(exc).split())
    if len(text) > 200:
        text = text[:197] + "..."
    return text or type(exc).__name__
