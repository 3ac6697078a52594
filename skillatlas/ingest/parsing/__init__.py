"""Document parsing: PDF / DOCX / HTML / TXT files -> :class:`ParsedDocument`, or an :class:`ItemError`.

Every failure is an :class:`~skillatlas.errors.ItemError` whose message names the file's problem, e.g.
"file is empty (0 bytes)", "PDF is encrypted", "DOCX expands to 1.2 GB, over the 200 MB limit (zip bomb?)".
The parser never raises anything else for a bad *file* (a bug may still raise, which the caller records).

Defences, in order: ``stat()`` (missing, not a regular file, empty, over ``max_bytes``) before reading; format
detection by magic bytes; a wall-clock budget (:data:`PARSE_TIMEOUT_S`, enforced with ``SIGALRM`` when called
in the main thread, and between PDF pages everywhere); PDF page cap (:data:`PDF_MAX_PAGES`); zip member sizes
and compression ratios checked before anything is decompressed; HTML nesting depth measured by a streaming tag
counter before the HTML is parsed; text truncated at ``max_chars`` (``truncated=True``, no error).

One module per concern, each with its limits:

- :mod:`.budget`: the time budget (:data:`PARSE_TIMEOUT_S`);
- :mod:`.sniff`: format detection by magic bytes and extension, binary-content detection;
- :mod:`.decode`: text decoding (the rule for TXT and HTML bytes), clean-up and truncation;
- :mod:`.metadata`: title and posted date;
- :mod:`.pdf`, :mod:`.docx`, :mod:`.html`: the readers (:data:`PDF_MAX_PAGES`, :data:`DOCX_MAX_UNCOMPRESSED`,
  :data:`HTML_MAX_DEPTH`);
- this module: reading the file safely and :func:`parse_document`, which ties them together.

The supported extensions come from the one format registry, :mod:`skillatlas.ingest.formats`.
"""

from __future__ import annotations

import hashlib
import stat
from datetime import date
from pathlib import Path

from skillatlas.errors import ErrorKind, ItemError
from skillatlas.ingest.formats import SUPPORTED_EXTENSIONS
from skillatlas.ingest.parsing import budget, docx, html, pdf
from skillatlas.ingest.parsing.budget import PARSE_TIMEOUT_S
from skillatlas.ingest.parsing.common import ParsedDocument, reason
from skillatlas.ingest.parsing.decode import clean_text, decode_text, read_text, truncate
from skillatlas.ingest.parsing.docx import DOCX_MAX_UNCOMPRESSED
from skillatlas.ingest.parsing.html import HTML_MAX_DEPTH, html_nesting_depth
from skillatlas.ingest.parsing.metadata import posted_date_from_text, title_from_text
from skillatlas.ingest.parsing.pdf import PDF_MAX_PAGES
from skillatlas.ingest.parsing.sniff import detect_format

__all__ = [
    "DOCX_MAX_UNCOMPRESSED",
    "HTML_MAX_DEPTH",
    "PARSE_TIMEOUT_S",
    "PDF_MAX_PAGES",
    "SUPPORTED_EXTENSIONS",
    "ParsedDocument",
    "content_sha256",
    "decode_text",
    "detect_format",
    "html_nesting_depth",
    "parse_document",
]

_NO_TEXT_HINT = {
    "pdf": "no extractable text (scanned PDF?)",
    "docx": "no extractable text (the DOCX has no text in paragraphs or tables)",
    "html": "no extractable text (the HTML has no visible text outside script/style/nav/footer)",
    "txt": "no extractable text (the file holds only whitespace or punctuation)",
}
# Exceptions a reader may raise on a hostile file besides ItemError -> (kind, what the message says of the file).
_PARSE_FAILURES: tuple[tuple[type[Exception], ErrorKind, str], ...] = (
    (MemoryError, ErrorKind.TOO_LARGE, "needs too much memory to parse"),
    (RecursionError, ErrorKind.INVALID_FORMAT, "is too deeply nested to parse"),
)


def content_sha256(path: Path | str, *, chunk_size: int = 1 << 20) -> str:
    """Hex SHA-256 of the file's bytes, read in chunks (constant memory)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def _unreadable(path: Path, exc: OSError, *, reading: bool) -> ItemError:
    """The :class:`ItemError` for an ``OSError`` from ``stat()`` (``reading=False``) or from reading the file."""
    if isinstance(exc, FileNotFoundError):
        removed = " (removed while reading)" if reading else ""
        return ItemError(ErrorKind.FILE_NOT_FOUND, f"file not found: {path}{removed}")
    if isinstance(exc, PermissionError):
        return ItemError(ErrorKind.FILE_NOT_FOUND, f"permission denied: {path}")
    if not reading:
        return ItemError(ErrorKind.FILE_NOT_FOUND, f"cannot stat {path}: {exc.strerror or exc}")
    return ItemError(ErrorKind.INVALID_FORMAT, f"cannot read {path}: {exc.strerror or exc}", transient=True)


def _read_checked(path: Path, max_bytes: int) -> bytes:
    try:
        st = path.stat()
    except OSError as exc:
        raise _unreadable(path, exc, reading=False) from None
    if stat.S_ISDIR(st.st_mode):
        raise ItemError(ErrorKind.INVALID_FORMAT, f"{path} is a directory, not a file")
    if not stat.S_ISREG(st.st_mode):
        raise ItemError(ErrorKind.INVALID_FORMAT, f"{path} is not a regular file (device, FIFO or socket)")
    if st.st_size == 0:
        raise ItemError(ErrorKind.NO_TEXT, "file is empty (0 bytes)")
    if st.st_size > max_bytes:
        raise ItemError(
            ErrorKind.TOO_LARGE, f"file is {st.st_size:,} bytes, over the {max_bytes:,}-byte limit"
        )
    try:
        with open(path, "rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise _unreadable(path, exc, reading=True) from None
    if len(data) > max_bytes:
        raise ItemError(ErrorKind.TOO_LARGE, f"file grew over the {max_bytes:,}-byte limit while being read")
    if not data:
        raise ItemError(ErrorKind.NO_TEXT, "file is empty (0 bytes)")
    return data


def _parse_failure(fmt: str, exc: Exception) -> ItemError:
    """The :class:`ItemError` for an exception other than ItemError that a reader raised."""
    for kind_of, kind, what in _PARSE_FAILURES:
        if isinstance(exc, kind_of):
            return ItemError(kind, f"{fmt.upper()} {what}")
    return ItemError(ErrorKind.INVALID_FORMAT, f"{fmt.upper()} is corrupt: {reason(exc)}")


def parse_document(
    path: Path | str,
    *,
    max_bytes: int = 10_000_000,
    max_chars: int = 2_000_000,
    expected_sha256: str | None = None,
) -> ParsedDocument:
    """Parse a PDF / DOCX / HTML / TXT file into text plus title and posted date.

    With ``expected_sha256`` (the hash the inbox registered), the bytes actually read are hashed first and a
    mismatch raises ``ItemError(CONTENT_CHANGED)``: the file was rewritten or replaced after registration, so
    its text must not be stored under the registered version (the inbox sensor registers the new content).
    Raises :class:`ItemError` (never anything else for a bad file); see the module docstring.
    """
    path = Path(path)
    data = _read_checked(path, max_bytes)
    if expected_sha256 is not None:
        actual = hashlib.sha256(data).hexdigest()
        if actual != expected_sha256:
            raise ItemError(
                ErrorKind.CONTENT_CHANGED,
                f"content changed after registration (sha256 {actual[:12]}..., registered {expected_sha256[:12]}...):"
                " not ingested under the old version; the inbox registers the new content as a new version",
            )
    fmt = detect_format(path, data[:2048])
    title: str | None = None
    posted: date | None = None
    page_count: int | None = None
    truncated = False
    # The budget and the readers are looked up on their modules at call time, so that tests can patch them there.
    timeout_s = budget.PARSE_TIMEOUT_S
    try:
        with budget.time_budget(timeout_s) as expired:
            if fmt == "pdf":
                raw, title, page_count, truncated = pdf.parse_pdf(data, max_chars, expired)
            elif fmt == "docx":
                raw, title = docx.parse_docx(data)
            elif fmt == "html":
                raw, title, posted = html.parse_html(data)
            else:
                raw = read_text(data, path.suffix)
    except budget.Deadline:
        raise ItemError(ErrorKind.TIMEOUT, f"{fmt.upper()} parsing took over {timeout_s:g} s") from None
    except ItemError:
        raise
    except Exception as exc:
        raise _parse_failure(fmt, exc) from None

    text = clean_text(raw)
    if not any(ch.isalnum() for ch in text):
        raise ItemError(ErrorKind.NO_TEXT, _NO_TEXT_HINT[fmt])
    text, cut = truncate(text, max_chars)
    if fmt != "html" or title is None:
        title = title or title_from_text(text)
    posted = posted or posted_date_from_text(text)
    return ParsedDocument(
        text=text,
        format=fmt,
        title=title,
        posted_date=posted,
        page_count=page_count,
        truncated=truncated or cut,
    )
