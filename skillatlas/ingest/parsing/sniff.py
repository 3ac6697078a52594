"""Content sniffing: the format of a file from its magic bytes first, then its extension, and whether bytes that
claim to be text look binary."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from skillatlas.errors import ErrorKind, ItemError
from skillatlas.ingest.formats import FORMAT_BY_EXTENSION, supported_list

__all__ = ["BINARY_SAMPLE", "binary_reason", "detect_format"]

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
    if ext in FORMAT_BY_EXTENSION:
        return FORMAT_BY_EXTENSION[ext]
    if ext == "":
        return "txt"  # no extension: treat as text (binary content is still rejected by the text decoder)
    raise ItemError(ErrorKind.INVALID_FORMAT, f"unsupported file type {ext!r} (supported: {supported_list()})")



_ALLOWED_CONTROL = frozenset(b"\t\n\r\x0b\x0c\x1a\x1b")
BINARY_SAMPLE = 65_536


def binary_reason(data: bytes) -> str | None:
    """Why ``data`` looks binary, or None.

    Binary = more than 16 NUL bytes in the first 64 KiB (or 3+ making up over 1 % of it),
    or over 5 % control characters.
    One or two stray NULs in a text file are tolerated (and stripped by the text clean-up).
    """
    sample = data[:BINARY_SAMPLE]
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
