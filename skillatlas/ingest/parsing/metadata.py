"""A document's title and posted date, from its text (or from metadata a reader found)."""

from __future__ import annotations

import re
from datetime import date

__all__ = ["TITLE_MAX_CHARS", "parse_iso_date", "posted_date_from_text", "short_title", "title_from_text"]

TITLE_MAX_CHARS = 150

_POSTED_RE = re.compile(
    r"^[ \t*_#>\-]*(?:date[ \t]+)?posted(?:[ \t]+on)?[ \t]*[:\-\u2013][ \t]*(\d{4}-\d{2}-\d{2})\b",
    re.IGNORECASE | re.MULTILINE,
)


def posted_date_from_text(text: str) -> date | None:
    for m in _POSTED_RE.finditer(text):
        parsed = parse_iso_date(m.group(1))
        if parsed is not None:
            return parsed
    return None


def parse_iso_date(value: str | None) -> date | None:
    if not value:
        return None
    m = re.match(r"\s*(\d{4}-\d{2}-\d{2})", value)
    if not m:
        return None
    try:
        return date.fromisoformat(m.group(1))
    except ValueError:
        return None


def title_from_text(text: str) -> str | None:
    seen = 0
    for line in text.split("\n"):
        line = line.strip().lstrip("#").strip()
        if not line:
            continue
        seen += 1
        if seen > 10:
            break
        if _POSTED_RE.match(line):
            continue
        if 2 <= len(line) <= TITLE_MAX_CHARS and any(ch.isalpha() for ch in line):
            return line
    return None


def short_title(value: str | None) -> str | None:
    if not value:
        return None
    value = " ".join(value.split())
    if not value or not any(ch.isalnum() for ch in value):
        return None
    return value if len(value) <= TITLE_MAX_CHARS else value[: TITLE_MAX_CHARS - 1].rstrip() + "\u2026"

