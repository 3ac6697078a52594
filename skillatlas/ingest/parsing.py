"""Document parsing: PDF / DOCX / HTML / TXT files -> :class:`ParsedDocument`, or an :class:`ItemError`.

Every failure is an :class:`~skillatlas.errors.ItemError` whose message names the file's problem, e.g.
"file is empty (0 bytes)", "PDF is encrypted", "DOCX expands to 1.2 GB, over the 200 MB limit (zip bomb?)".
The parser never raises anything else for a bad *file* (a bug may still raise, which the caller records).

Defences, in order: ``stat()`` (missing, not a regular file, empty, over ``max_bytes``) before reading; format
detection by magic bytes; a wall-clock budget (:data:`PARSE_TIMEOUT_S`, enforced with ``SIGALRM`` when called
in the main thread, and between PDF pages everywhere); PDF page cap (:data:`PDF_MAX_PAGES`); zip member sizes
and compression ratios checked before anything is decompressed; HTML nesting depth measured by a streaming tag
counter before the HTML is parsed; text truncated at ``max_chars`` (``truncated=True``, no error).

Text decoding (TXT files; HTML uses the same rule after its declared charset):
1. a BOM decides (UTF-8, UTF-16 LE/BE);
2. strict UTF-8;
3. cp1252, when the bytes hold no valid multi-byte UTF-8 sequence (the signature of a legacy single-byte
   file), contain none of the five bytes cp1252 leaves undefined, and the decoded text is plausibly text
   (at least 95 % letters, digits, whitespace and common punctuation);
4. UTF-8 with U+FFFD replacement, when the file is *mostly* valid UTF-8: it holds valid multi-byte sequences
   and at most 1 invalid byte per 1,000 (at most 20 in all);
5. otherwise ``ItemError(INVALID_FORMAT, "invalid UTF-8 at byte N ...")``.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import re
import signal
import stat
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from skillatlas.errors import ErrorKind, ItemError
from skillatlas.ingest.formats import FORMAT_BY_EXTENSION, SUPPORTED_EXTENSIONS, supported_list

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

# The one format registry (skillatlas.ingest.formats) is shared with the inbox scan, so the lists cannot drift.
_EXT_FORMAT = FORMAT_BY_EXTENSION

PDF_MAX_PAGES = 500
PARSE_TIMEOUT_S = 60.0
DOCX_MAX_UNCOMPRESSED = 200_000_000  # sum of declared member sizes
DOCX_MAX_RATIO = 200  # per member, for members over DOCX_RATIO_MIN_SIZE
DOCX_RATIO_MIN_SIZE = 5_000_000
DOCX_MAX_MEMBERS = 5_000
HTML_MAX_DEPTH = 1_000
TITLE_MAX_CHARS = 150


@dataclass(frozen=True)
class ParsedDocument:
    text: str
    format: str  # "pdf" | "docx" | "html" | "txt"
    title: str | None
    posted_date: date | None
    page_count: int | None
    truncated: bool = False  # text cut at max_chars, or PDF cut at PDF_MAX_PAGES / the time budget


# --------------------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------------------


def _fmt_size(n: int) -> str:
    """Human size with decimal units: 1.2 GB, 200 MB, 3.4 kB."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            value = n / scale
            return f"{value:.1f} {unit}" if value < 10 and value != int(value) else f"{value:.0f} {unit}"
    return f"{n} bytes"


def content_sha256(path: Path | str, *, chunk_size: int = 1 << 20) -> str:
    """Hex SHA-256 of the file's bytes, read in chunks (constant memory)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


class _Deadline(BaseException):
    """Raised by the alarm handler; a BaseException so that ``except Exception`` cannot catch it."""


@contextlib.contextmanager
def _time_budget(seconds: float) -> Iterator[Callable[[], bool]]:
    """Yield ``expired()``; also interrupt the body with :class:`_Deadline` via SIGALRM when that is safe
    (main thread, no other ITIMER_REAL timer or SIGALRM handler installed)."""
    start = time.monotonic()

    def expired() -> bool:
        return time.monotonic() - start > seconds

    use_alarm = (
        seconds > 0
        and hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
        and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
        and signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, None)
    )
    if not use_alarm:
        yield expired
        return

    def _on_alarm(signum: int, frame: Any) -> None:
        raise _Deadline()

    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield expired
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# --------------------------------------------------------------------------------------------------------
# format detection
# --------------------------------------------------------------------------------------------------------

_HTML_SNIFF_RE = re.compile(
    rb"^(?:\s|<!--.*?-->|<\?xml[^>]*>)*<(?:!doctype\s+html|html|head|body)[\s>/]", re.IGNORECASE | re.DOTALL
)
_OTHER_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "a legacy Office (OLE2) file such as .doc; save it as .docx"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"{\\rtf", "an RTF document; save it as .docx or .pdf"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
    (b"\x7fELF", "an executable (ELF)"),
    (b"MZ", "a Windows executable"),
)


def _zip_has_docx_part(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as zf:
            return "word/document.xml" in zf.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return False


def detect_format(path: Path, head: bytes) -> str:
    """ "pdf" | "docx" | "html" | "txt" from magic bytes first, then the extension.

    Raises ``ItemError(INVALID_FORMAT)`` for known non-document formats and unsupported extensions.
    """
    path = Path(path)
    ext = path.suffix.casefold()
    if head.startswith(b"%PDF") or b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        if ext == ".docx" or _zip_has_docx_part(path):
            return "docx"
        raise ItemError(
            ErrorKind.INVALID_FORMAT,
            "file is a zip archive without word/document.xml (not a DOCX; .xlsx/.pptx/.odt are not "
            "supported)",
        )
    if _HTML_SNIFF_RE.match(head.removeprefix(b"\xef\xbb\xbf")):
        return "html"
    for magic, what in _OTHER_MAGIC:
        if head.startswith(magic) and not (
            magic == b"MZ" and ext in (".txt", ".md", ".text", ".html", ".htm")
        ):
            raise ItemError(ErrorKind.INVALID_FORMAT, f"file is {what}, not a supported document")
    if ext in _EXT_FORMAT:
        return _EXT_FORMAT[ext]
    if ext == "":
        return "txt"  # no extension: treat as text (binary content is still rejected by the text decoder)
    raise ItemError(ErrorKind.INVALID_FORMAT, f"unsupported file type {ext!r} (supported: {supported_list()})")


# --------------------------------------------------------------------------------------------------------
# text decoding and clean-up
# --------------------------------------------------------------------------------------------------------

_CP1252_UNDEFINED = frozenset(b"\x81\x8d\x8f\x90\x9d")
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_ALLOWED_CONTROL = frozenset(b"\t\n\r\x0b\x0c\x1a\x1b")
_BINARY_SAMPLE = 65_536


def _binary_reason(data: bytes) -> str | None:
    """Why ``data`` looks binary, or None.

    Binary = more than 16 NUL bytes in the first 64 KiB (or 3+ making up over 1 % of it),
    or over 5 % control characters.
    One or two stray NULs in a text file are tolerated (and stripped by the text clean-up).
    """
    sample = data[:_BINARY_SAMPLE]
    if not sample:
        return None
    nuls = sample.count(b"\x00")
    if nuls > 16 or (nuls > 2 and nuls * 100 > len(sample)):
        first = sample.find(0)
        return f"{nuls:,} NUL bytes in the first {len(sample):,} bytes, the first at offset {first:,}"
    controls = sum(1 for b in sample if (b < 0x20 and b not in _ALLOWED_CONTROL) or b == 0x7F)
    if controls / len(sample) > 0.05:
        return f"{controls / len(sample):.0%} control characters"
    return None


def _plausible_text(text: str) -> bool:
    if not text:
        return False
    ok = sum(
        1
        for ch in text
        if ch.isalnum()
        or ch.isspace()
        or ch
        in ".,;:!?'\"()[]-_/&%$#@*+=<>\u2013\u2014\u2018\u2019\u201c\u201d\u2022\u20ac\u00a3\u00b0\u2026"
    )
    return ok / len(text) >= 0.95


def decode_text(data: bytes, *, what: str = "file") -> str:
    """Decode bytes of a text file per the module rule; ``ItemError(INVALID_FORMAT)`` when not text."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ItemError(
                ErrorKind.INVALID_FORMAT, f"invalid UTF-16 at byte {exc.start:,} ({what})"
            ) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    replaced = data.decode("utf-8", errors="replace")
    invalid = replaced.count("\ufffd") - data.count(b"\xef\xbf\xbd")
    has_multibyte = any(ord(ch) > 0x7F and ch != "\ufffd" for ch in replaced)
    if not has_multibyte and not (_CP1252_UNDEFINED & set(data)):
        text = data.decode("cp1252")
        if _plausible_text(text[:_BINARY_SAMPLE]):
            return text
    if has_multibyte and invalid <= min(20, max(1, len(data) // 1000)):
        return replaced
    raise ItemError(
        ErrorKind.INVALID_FORMAT,
        f"invalid UTF-8 at byte {first_bad:,} ({invalid:,} invalid byte sequences; not cp1252 text either)",
    )


_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_SPACES_RE = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_TRAILING_SPACE_RE = re.compile(r" *\n *")
_BLANK_LINES_RE = re.compile(r"\n{3,}")


def _clean_text(text: str) -> str:
    """Normalise newlines, drop NULs / control / zero-width characters, collapse runs of spaces and of blank
    lines, trim every line."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n\n")
    text = text.replace("\x0c", "\n\n")  # form feed = page break
    text = _CONTROL_RE.sub("", text)
    text = _SPACES_RE.sub(" ", text)
    text = _TRAILING_SPACE_RE.sub("\n", text)
    text = _BLANK_LINES_RE.sub("\n\n", text)
    return text.strip()


def _truncate(text: str, max_chars: int) -> tuple[str, bool]:
    if len(text) <= max_chars:
        return text, False
    cut = text.rfind(" ", max(0, max_chars - 1000), max_chars)
    cut2 = text.rfind("\n", max(0, max_chars - 1000), max_chars)
    cut = max(cut, cut2)
    return text[: cut if cut > 0 else max_chars].rstrip(), True


# --------------------------------------------------------------------------------------------------------
# title and posted date
# --------------------------------------------------------------------------------------------------------

_POSTED_RE = re.compile(
    r"^[ \t*_#>\-]*(?:date[ \t]+)?posted(?:[ \t]+on)?[ \t]*[:\-\u2013][ \t]*(\d{4}-\d{2}-\d{2})\b",
    re.IGNORECASE | re.MULTILINE,
)


def _posted_date_from_text(text: str) -> date | None:
    for m in _POSTED_RE.finditer(text):
        parsed = _parse_iso_date(m.group(1))
        if parsed is not None:
            return parsed
    return None


def _parse_iso_date(value: str | None) -> date | None:
    if not value:
        return None
    m = re.match(r"\s*(\d{4}-\d{2}-\d{2})", value)
    if not m:
        return None
    try:
        return date.fromisoformat(m.group(1))
    except ValueError:
        return None


def _title_from_text(text: str) -> str | None:
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


def _short_title(value: str | None) -> str | None:
    if not value:
        return None
    value = " ".join(value.split())
    if not value or not any(ch.isalnum() for ch in value):
        return None
    return value if len(value) <= TITLE_MAX_CHARS else value[: TITLE_MAX_CHARS - 1].rstrip() + "\u2026"


# --------------------------------------------------------------------------------------------------------
# PDF
# --------------------------------------------------------------------------------------------------------


def _parse_pdf(data: bytes, max_chars: int, expired: Callable[[], bool]) -> tuple[str, str | None, int, bool]:
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
        raise ItemError(ErrorKind.INVALID_FORMAT, f"PDF is corrupt: {_reason(exc)}") from None
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
        raise ItemError(ErrorKind.INVALID_FORMAT, f"PDF is corrupt: {_reason(exc)}") from None
    if page_count == 0:
        raise ItemError(ErrorKind.INVALID_FORMAT, "PDF is corrupt: it has no pages")
    title: str | None = None
    with contextlib.suppress(Exception):
        meta_title = reader.metadata.title if reader.metadata else None
        if meta_title and not re.match(r"(?i)(microsoft word|untitled|document\d*$)", str(meta_title)):
            title = _short_title(str(meta_title))
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
            failures.append(f"page {index + 1}: {_reason(exc)}")
            continue
        pages.append(page_text)
        total += len(page_text)
        if total > max_chars:
            truncated = True
            break
    if failures and not pages:
        raise ItemError(ErrorKind.INVALID_FORMAT, f"PDF is corrupt: no page could be read ({failures[0]})")
    return "\n\n".join(pages), title, page_count, truncated


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    if len(text) > 200:
        text = text[:197] + "..."
    return text or type(exc).__name__


# --------------------------------------------------------------------------------------------------------
# DOCX
# --------------------------------------------------------------------------------------------------------


def _check_docx_zip(data: bytes) -> None:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, EOFError, OSError) as exc:
        raise ItemError(
            ErrorKind.INVALID_FORMAT, f"DOCX is not a valid zip archive ({_reason(exc)})"
        ) from None
    with zf:
        infos = zf.infolist()
        if len(infos) > DOCX_MAX_MEMBERS:
            raise ItemError(
                ErrorKind.INVALID_FORMAT,
                f"DOCX has {len(infos):,} zip members, over the {DOCX_MAX_MEMBERS:,} limit",
            )
        total = sum(max(0, info.file_size) for info in infos)
        if total > DOCX_MAX_UNCOMPRESSED:
            raise ItemError(
                ErrorKind.TOO_LARGE,
                f"DOCX expands to {_fmt_size(total)}, over the {_fmt_size(DOCX_MAX_UNCOMPRESSED)} limit "
                "(zip bomb?)",
            )
        for info in infos:
            if info.file_size > DOCX_RATIO_MIN_SIZE and info.file_size > DOCX_MAX_RATIO * max(
                1, info.compress_size
            ):
                ratio = info.file_size / max(1, info.compress_size)
                raise ItemError(
                    ErrorKind.TOO_LARGE,
                    f"DOCX member {info.filename} expands {ratio:,.0f}x to {_fmt_size(info.file_size)} "
                    f"(over the {DOCX_MAX_RATIO}x ratio limit; zip bomb?)",
                )
        names = {info.filename for info in infos}
        if "word/document.xml" not in names:
            raise ItemError(ErrorKind.INVALID_FORMAT, "DOCX has no word/document.xml (not a Word document)")


def _parse_docx(data: bytes) -> tuple[str, str | None]:
    _check_docx_zip(data)
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # KeyError, lxml XMLSyntaxError, PackageNotFoundError, ...
        raise ItemError(ErrorKind.INVALID_FORMAT, f"DOCX is corrupt: {_reason(exc)}") from None

    lines: list[str] = []
    heading: str | None = None
    # style id -> style name, looked up once per id (Paragraph.style re-resolves the style on every call)
    style_names: dict[str, str] = {}

    def style_of(par: Paragraph) -> str:
        ppr = par._p.pPr
        if ppr is None or ppr.pStyle is None:
            return ""
        style_id = ppr.pStyle.val or ""
        if style_id not in style_names:
            name = style_id
            with contextlib.suppress(Exception):
                element = document.styles.element.get_by_id(style_id)
                if element is not None and element.name_val:
                    name = element.name_val
            style_names[style_id] = name
        return style_names[style_id]

    def walk(items: Iterator[Paragraph | Table], depth: int) -> None:
        nonlocal heading
        for item in items:
            if isinstance(item, Paragraph):
                text = item.text.strip()
                if not text:
                    continue
                style = style_of(item).casefold()
                ppr = item._p.pPr
                if heading is None and (style == "title" or style.startswith("heading")):
                    heading = text
                if (ppr is not None and ppr.numPr is not None) or style.startswith("list"):
                    text = "\u2022 " + text
                lines.append(text)
            elif isinstance(item, Table) and depth < 5:
                for row in item.rows:
                    cells: list[str] = []
                    previous = None
                    for cell in row.cells:
                        if previous is not None and cell._tc is previous:  # a merged cell repeats
                            continue
                        previous = cell._tc
                        text = " ".join(p.text.strip() for p in cell.paragraphs if p.text.strip())
                        if text:
                            cells.append(text)
                        for nested in cell.tables:
                            walk(iter([nested]), depth + 1)
                    if cells:
                        lines.append(" | ".join(cells))
                lines.append("")

    try:
        walk(document.iter_inner_content(), 0)
    except ItemError:
        raise
    except Exception as exc:
        raise ItemError(ErrorKind.INVALID_FORMAT, f"DOCX is corrupt: {_reason(exc)}") from None
    title = heading
    with contextlib.suppress(Exception):
        title = title or _short_title(document.core_properties.title)
    return "\n".join(lines), _short_title(title)


# --------------------------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------------------------

_VOID_TAGS = frozenset(
    {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
        "keygen",
        "command",
        "basefont",
        "frame",
        "isindex",
    }
)
_RAW_TEXT_TAGS = frozenset({"script", "style", "textarea", "title", "xmp", "noscript", "plaintext"})
_AUTO_CLOSE: dict[str, frozenset[str]] = {
    "p": frozenset({"p"}),
    "li": frozenset({"li"}),
    "dt": frozenset({"dt", "dd"}),
    "dd": frozenset({"dt", "dd"}),
    "tr": frozenset({"tr", "td", "th"}),
    "td": frozenset({"td", "th"}),
    "th": frozenset({"td", "th"}),
    "option": frozenset({"option"}),
    "thead": frozenset({"tbody", "tfoot"}),
    "tbody": frozenset({"thead", "tbody"}),
}
_TAG_RE = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9:-]*)\b[^>]*?(/?)>|<!--|<!\[CDATA\[")


def html_nesting_depth(html: str, *, stop_at: int | None = None) -> int:
    """Maximum element nesting depth of ``html``, by a streaming tag counter (no DOM is built).

    Void elements and self-closing tags do not nest; optional end tags (``<p>``, ``<li>``, ``<td>``...) are
    closed implicitly like a browser would; the content of ``<script>``/``<style>``/comments is skipped.
    Stops early once ``stop_at`` is exceeded.
    """
    stack: list[str] = []
    deepest = 0
    pos = 0
    n = len(html)
    while pos < n:
        m = _TAG_RE.search(html, pos)
        if m is None:
            break
        token = m.group()
        if token == "<!--":
            end = html.find("-->", m.end())
            pos = n if end < 0 else end + 3
            continue
        if token == "<![CDATA[":
            end = html.find("]]>", m.end())
            pos = n if end < 0 else end + 3
            continue
        pos = m.end()
        closing, name, self_closing = m.group(1), m.group(2).casefold(), m.group(3)
        if closing:
            for k in range(len(stack) - 1, max(-1, len(stack) - 65), -1):
                if stack[k] == name:
                    del stack[k:]
                    break
            continue
        if name in _VOID_TAGS or self_closing:
            continue
        implied = _AUTO_CLOSE.get(name)
        if implied and stack and stack[-1] in implied:
            stack.pop()
        if name in _RAW_TEXT_TAGS:
            end = _find_ci(html, f"</{name}", pos)
            pos = n if end < 0 else end
            stack.append(name)
            deepest = max(deepest, len(stack))
            continue
        stack.append(name)
        if len(stack) > deepest:
            deepest = len(stack)
            if stop_at is not None and deepest > stop_at:
                break
    return deepest


def _find_ci(text: str, needle: str, start: int) -> int:
    m = re.compile(re.escape(needle), re.IGNORECASE).search(text, start)
    return m.start() if m else -1


_DROP_TAGS = [
    "script",
    "style",
    "noscript",
    "template",
    "nav",
    "footer",
    "svg",
    "iframe",
    "object",
    "canvas",
    "head",
    "button",
    "select",
    "form",
]
_BLOCK_TAGS = frozenset(
    {
        "address",
        "article",
        "aside",
        "blockquote",
        "body",
        "caption",
        "center",
        "dd",
        "details",
        "dialog",
        "dir",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hgroup",
        "hr",
        "li",
        "main",
        "menu",
        "ol",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "tbody",
        "thead",
        "tfoot",
        "tr",
        "ul",
        "html",
    }
)
_CELL_TAGS = frozenset({"td", "th"})
_META_CHARSET_RE = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?([A-Za-z0-9_\-:.]+)", re.IGNORECASE)
_WS_RE = re.compile(r"\s+")


def _decode_html(data: bytes) -> str:
    if data.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        return decode_text(data, what="HTML")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    m = _META_CHARSET_RE.search(data[:4096])
    if m:
        charset = m.group(1).decode("ascii", "replace")
        with contextlib.suppress(LookupError, UnicodeDecodeError):
            return data.decode(charset)
    return decode_text(data, what="HTML")


def _html_text(root: Any) -> str:
    out: list[str] = []
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, closing = stack.pop()
        if closing:
            out.append("\n" if node.tag not in _CELL_TAGS else " | ")
            continue
        if node.is_text_node:
            value = node.text_content
            if value:
                out.append(_WS_RE.sub(" ", value))
            continue
        tag = node.tag
        if not isinstance(tag, str) or tag.startswith(("-", "!")):
            continue
        if tag == "br":
            out.append("\n")
            continue
        if tag in _BLOCK_TAGS:
            out.append("\n\u2022 " if tag == "li" else "\n")
            stack.append((node, True))
        elif tag in _CELL_TAGS:
            stack.append((node, True))
        children = list(node.iter(include_text=True))
        for child in reversed(children):
            stack.append((child, False))
    text = "".join(out)
    text = re.sub(r"(?: \| )+\n", "\n", text)  # trailing cell separators
    return re.sub(r"[ \t]*\n[\s]*", "\n", text)  # one line per block: blocks already end lines


def _parse_html(data: bytes) -> tuple[str, str | None, date | None]:
    from selectolax.lexbor import LexborHTMLParser

    html = _decode_html(data)
    depth = html_nesting_depth(html)
    if depth > HTML_MAX_DEPTH:
        raise ItemError(ErrorKind.INVALID_FORMAT, f"HTML nesting depth {depth:,} exceeds {HTML_MAX_DEPTH:,}")
    try:
        tree = LexborHTMLParser(html)
    except Exception as exc:
        raise ItemError(ErrorKind.INVALID_FORMAT, f"HTML could not be parsed: {_reason(exc)}") from None
    title: str | None = None
    posted: date | None = None
    node = tree.css_first("title")
    if node is not None:
        title = _short_title(node.text())
    if title is None:
        node = tree.css_first("h1")
        if node is not None:
            title = _short_title(node.text(separator=" "))
    for selector in (
        'meta[name="posted-date"]',
        'meta[name="posted_date"]',
        'meta[itemprop="datePosted"]',
        'meta[property="article:published_time"]',
    ):
        node = tree.css_first(selector)
        if node is not None:
            posted = _parse_iso_date(node.attributes.get("content"))
            if posted is not None:
                break
    tree.strip_tags(_DROP_TAGS)
    body = tree.body if tree.body is not None else tree.root
    text = _html_text(body) if body is not None else ""
    return text, title, posted


# --------------------------------------------------------------------------------------------------------
# entry point
# --------------------------------------------------------------------------------------------------------

_NO_TEXT_HINT = {
    "pdf": "no extractable text (scanned PDF?)",
    "docx": "no extractable text (the DOCX has no text in paragraphs or tables)",
    "html": "no extractable text (the HTML has no visible text outside script/style/nav/footer)",
    "txt": "no extractable text (the file holds only whitespace or punctuation)",
}


def _read_checked(path: Path, max_bytes: int) -> bytes:
    try:
        st = path.stat()
    except FileNotFoundError:
        raise ItemError(ErrorKind.FILE_NOT_FOUND, f"file not found: {path}") from None
    except PermissionError:
        raise ItemError(ErrorKind.FILE_NOT_FOUND, f"permission denied: {path}") from None
    except OSError as exc:
        raise ItemError(ErrorKind.FILE_NOT_FOUND, f"cannot stat {path}: {exc.strerror or exc}") from None
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
    except FileNotFoundError:
        raise ItemError(ErrorKind.FILE_NOT_FOUND, f"file not found: {path} (removed while reading)") from None
    except PermissionError:
        raise ItemError(ErrorKind.FILE_NOT_FOUND, f"permission denied: {path}") from None
    except OSError as exc:
        raise ItemError(
            ErrorKind.INVALID_FORMAT, f"cannot read {path}: {exc.strerror or exc}", transient=True
        ) from None
    if len(data) > max_bytes:
        raise ItemError(ErrorKind.TOO_LARGE, f"file grew over the {max_bytes:,}-byte limit while being read")
    if not data:
        raise ItemError(ErrorKind.NO_TEXT, "file is empty (0 bytes)")
    return data


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
    try:
        with _time_budget(PARSE_TIMEOUT_S) as expired:
            if fmt == "pdf":
                raw, title, page_count, truncated = _parse_pdf(data, max_chars, expired)
            elif fmt == "docx":
                raw, title = _parse_docx(data)
            elif fmt == "html":
                raw, title, posted = _parse_html(data)
            elif data.startswith(_UTF16_BOMS):
                # UTF-16 text is half NUL bytes by design: the binary test judges its decoded text instead.
                raw = decode_text(data)
                reason = _binary_reason(raw.encode("utf-8"))
                if reason is not None:
                    ext = path.suffix or "text"
                    raise ItemError(ErrorKind.INVALID_FORMAT, f"binary content in a UTF-16 {ext} file ({reason})")
            else:
                reason = _binary_reason(data)
                if reason is not None:
                    ext = path.suffix or "text"
                    raise ItemError(ErrorKind.INVALID_FORMAT, f"binary content in a {ext} file ({reason})")
                raw = decode_text(data)
    except _Deadline:
        raise ItemError(ErrorKind.TIMEOUT, f"{fmt.upper()} parsing took over {PARSE_TIMEOUT_S:g} s") from None
    except ItemError:
        raise
    except MemoryError:
        raise ItemError(ErrorKind.TOO_LARGE, f"{fmt.upper()} needs too much memory to parse") from None
    except RecursionError:
        raise ItemError(ErrorKind.INVALID_FORMAT, f"{fmt.upper()} is too deeply nested to parse") from None
    except Exception as exc:
        raise ItemError(ErrorKind.INVALID_FORMAT, f"{fmt.upper()} is corrupt: {_reason(exc)}") from None

    text = _clean_text(raw)
    if not any(ch.isalnum() for ch in text):
        raise ItemError(ErrorKind.NO_TEXT, _NO_TEXT_HINT[fmt])
    text, cut = _truncate(text, max_chars)
    if fmt != "html" or title is None:
        title = title or _title_from_text(text)
    posted = posted or _posted_date_from_text(text)
    return ParsedDocument(
        text=text,
        format=fmt,
        title=title,
        posted_date=posted,
        page_count=page_count,
        truncated=truncated or cut,
    )
