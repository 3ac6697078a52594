"""DOCX reader: the zip archive is checked (member count, declared sizes, compression ratios) before anything is
decompressed, then paragraphs and tables become lines; the first Title/Heading paragraph is the title."""

from __future__ import annotations

import contextlib
import io
import zipfile
from collections.abc import Iterator

from skillatlas.errors import ErrorKind, ItemError
from skillatlas.ingest.parsing.common import fmt_size, reason
from skillatlas.ingest.parsing.metadata import short_title

__all__ = ["DOCX_MAX_UNCOMPRESSED", "parse_docx"]

DOCX_MAX_UNCOMPRESSED = 200_000_000  # sum of declared member sizes
DOCX_MAX_RATIO = 200  # per member, for members over DOCX_RATIO_MIN_SIZE
DOCX_RATIO_MIN_SIZE = 5_000_000
DOCX_MAX_MEMBERS = 5_000


def _check_docx_zip(data: bytes) -> None:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, EOFError, OSError) as exc:
        raise ItemError(
            ErrorKind.INVALID_FORMAT, f"DOCX is not a valid zip archive ({reason(exc)})"
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
                f"DOCX expands to {fmt_size(total)}, over the {fmt_size(DOCX_MAX_UNCOMPRESSED)} limit "
                "(zip bomb?)",
            )
        for info in infos:
            if info.file_size > DOCX_RATIO_MIN_SIZE and info.file_size > DOCX_MAX_RATIO * max(
                1, info.compress_size
            ):
                ratio = info.file_size / max(1, info.compress_size)
                raise ItemError(
                    ErrorKind.TOO_LARGE,
                    f"DOCX member {info.filename} expands {ratio:,.0f}x to {fmt_size(info.file_size)} "
                    f"(over the {DOCX_MAX_RATIO}x ratio limit; zip bomb?)",
                )
        names = {info.filename for info in infos}
        if "word/document.xml" not in names:
            raise ItemError(ErrorKind.INVALID_FORMAT, "DOCX has no word/document.xml (not a Word document)")


def parse_docx(data: bytes) -> tuple[str, str | None]:
    _check_docx_zip(data)
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # KeyError, lxml XMLSyntaxError, PackageNotFoundError, ...
        raise ItemError(ErrorKind.INVALID_FORMAT, f"DOCX is corrupt: {reason(exc)}") from None

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
        raise ItemError(ErrorKind.INVALID_FORMAT, f"DOCX is corrupt: {reason(exc)}") from None
    title = heading
    with contextlib.suppress(Exception):
        title = title or short_title(document.core_properties.title)
    return "\n".join(lines), short_title(title)
