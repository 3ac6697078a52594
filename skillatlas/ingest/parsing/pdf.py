"""PDF reader: text of at most :data:`PDF_MAX_PAGES` pages (stopping early at ``max_chars`` or the time budget),
the metadata title, the page count; encrypted and damaged files become :class:`ItemError`."""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Callable

from skillatlas.errors import ErrorKind, ItemError
from skillatlas.ingest.parsing.common import reason
from skillatlas.ingest.parsing.metadata import short_title

__all__ = ["PDF_MAX_PAGES", "parse_pdf"]

PDF_MAX_PAGES = 500


def parse_pdf(data: bytes, max_chars: int, expired: Callable[[], bool]) -> tuple[str, str | None, int, bool]:
    import logging

    from pypdf import PdfReader
    from pypdf.errors import DependencyError

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    if b"%PDF-" not in data[:1024]:
        raise ItemError(ErrorKind.INVALID_FORMAT, "PDF is corrupt: no %PDF header (the file is not a PDF)")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        encrypted = reader.is_encrypted
    except DependencyError as exc:
        raise ItemError(ErrorKind.INVALID_FORMAT, f"PDF is encrypted and cannot be opened: {exc}") from None
    except Exception as exc:  # pypdf raises many types on damaged files
        raise ItemError(ErrorKind.INVALID_FORMAT, f"PDF is corrupt: {reason(exc)}") from None
    if encrypted:
        try:
            opened = bool(reader.decrypt(""))  # owner-password-only PDFs open with an empty user password
        except DependencyError:
            raise ItemError(
                ErrorKind.INVALID_FORMAT,
                "PDF is encrypted (AES) and cannot be decrypted without the 'cryptography' package",
            ) from None
        except Exception:
            opened = False
        if not opened:
            raise ItemError(ErrorKind.INVALID_FORMAT, "PDF is encrypted (a password is required to open it)")
    try:
        page_count = len(reader.pages)
    except Exception as exc:
        raise ItemError(ErrorKind.INVALID_FORMAT, f"PDF is corrupt: {reason(exc)}") from None
    if page_count == 0:
        raise ItemError(ErrorKind.INVALID_FORMAT, "PDF is corrupt: it has no pages")
    title: str | None = None
    with contextlib.suppress(Exception):
        meta_title = reader.metadata.title if reader.metadata else None
        if meta_title and not re.match(r"(?i)(microsoft word|untitled|document\d*$)", str(meta_title)):
            title = short_title(str(meta_title))
    pages: list[str] = []
    failures: list[str] = []
    total = 0
    truncated = page_count > PDF_MAX_PAGES
    for index in range(min(page_count, PDF_MAX_PAGES)):
        if expired():
            truncated = True
            break
        try:
            page_text = reader.pages[index].extract_text() or ""
        except Exception as exc:
            failures.append(f"page {index + 1}: {reason(exc)}")
            continue
        pages.append(page_text)
        total += len(page_text)
        if total > max_chars:
            truncated = True
            break
    if failures and not pages:
        raise ItemError(ErrorKind.INVALID_FORMAT, f"PDF is corrupt: no page could be read ({failures[0]})")
    return "\n\n".join(pages), title, page_count, truncated
