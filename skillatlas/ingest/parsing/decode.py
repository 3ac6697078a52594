"""Text decoding and clean-up.

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

import re

from skillatlas.errors import ErrorKind, ItemError
from skillatlas.ingest.parsing.sniff import BINARY_SAMPLE, binary_reason

__all__ = ["clean_text", "decode_text", "read_text", "truncate"]

_CP1252_UNDEFINED = frozenset(b"\x81\x8d\x8f\x90\x9d")
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


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
    elif data.startswith(_UTF16_BOMS):
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
        if _plausible_text(text[:BINARY_SAMPLE]):
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


def clean_text(text: str) -> str:
    """Normalise newlines, drop NULs / control / zero-width characters, collapse runs of spaces and of blank
    lines, trim every line."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n\n")
    text = text.replace("\x0c", "\n\n")  # form feed = page break
    text = _CONTROL_RE.sub("", text)
    text = _SPACES_RE.sub(" ", text)
    text = _TRAILING_SPACE_RE.sub("\n", text)
    text = _BLANK_LINES_RE.sub("\n\n", text)
    return text.strip()


def truncate(text: str, max_chars: int) -> tuple[str, bool]:
    """``text`` cut to at most ``max_chars`` at a space or line break near the limit, and whether it was cut."""
    if len(text) <= max_chars:
        return text, False
    cut = text.rfind(" ", max(0, max_chars - 1000), max_chars)
    cut2 = text.rfind("\n", max(0, max_chars - 1000), max_chars)
    cut = max(cut, cut2)
    return text[: cut if cut > 0 else max_chars].rstrip(), True


def read_text(data: bytes, suffix: str) -> str:
    """The text of a plain-text file (``suffix`` its extension, for messages); ``ItemError(INVALID_FORMAT)`` when
    its content is binary or not decodable."""
    utf16 = data.startswith(_UTF16_BOMS)
    # UTF-16 text is half NUL bytes by design: the binary test judges its decoded text instead.
    text = decode_text(data) if utf16 else None
    why = binary_reason(data if text is None else text.encode("utf-8"))
    if why is not None:
        encoding = "UTF-16 " if utf16 else ""
        raise ItemError(ErrorKind.INVALID_FORMAT, f"binary content in a {encoding}{suffix or 'text'} file ({why})")
    return decode_text(data) if text is None else text
