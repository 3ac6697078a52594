"""Generators of hostile (and a few good) input files, for parsing tests and fault-injection tests.

Every ``make_*`` function writes one file into ``directory`` and returns ``(path, expected)``:
for the hostile files ``expected`` is the :class:`ErrorKind` that :func:`skillatlas.ingest.parsing.parse_document`
must raise (and :data:`EXPECTED_MESSAGE` holds a fragment of its message); for the good files it is the tuple
of phrases the extracted text must contain. All generators are fast (well under a second) and write small
files; the "huge" ones are sparse files or zip bombs.
"""

from __future__ import annotations

import io
import random
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

from skillatlas.errors import ErrorKind

BadFile = tuple[Path, ErrorKind]
GoodFile = tuple[Path, tuple[str, ...]]

# --------------------------------------------------------------------------------------------------------
# known content of the good files
# --------------------------------------------------------------------------------------------------------

GOOD_TITLE = "Senior Data Engineer"
GOOD_POSTED = "2024-03-15"
GOOD_PHRASES: tuple[str, ...] = (
    "Design and maintain ETL pipelines in Python and SQL.",
    "Experience with Apache Spark and Kubernetes is required.",
    "Strong communication skills.",
)
_GOOD_BODY = [
    GOOD_TITLE,
    f"Posted: {GOOD_POSTED}",
    "About the role",
    GOOD_PHRASES[0],
    GOOD_PHRASES[1],
    GOOD_PHRASES[2],
]


def _write(directory: Path, name: str, data: bytes) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_bytes(data)
    return path


# --------------------------------------------------------------------------------------------------------
# good files
# --------------------------------------------------------------------------------------------------------


def make_good_txt(directory: Path, name: str = "good.txt", *, body: list[str] | None = None) -> GoodFile:
    lines = body or _GOOD_BODY
    path = _write(directory, name, ("\r\n".join(lines) + "\r\n").encode("utf-8"))
    return path, GOOD_PHRASES


def make_good_pdf(
    directory: Path, name: str = "good.pdf", *, pages: int = 2, body: list[str] | None = None
) -> GoodFile:
    """A text PDF written with fpdf2: the good body on page 1, filler paragraphs on the next pages."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    lines = body or _GOOD_BODY
    for page in range(pages):
        pdf.add_page()
        if page == 0:
            for line in lines:
                pdf.multi_cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
        else:
            pdf.multi_cell(
                0,
                6,
                f"Page {page + 1}. Responsibilities include data modelling and testing.",
                new_x="LMARGIN",
                new_y="NEXT",
            )
    return _write(directory, name, bytes(pdf.output())), GOOD_PHRASES


def make_good_docx(directory: Path, name: str = "good.docx") -> GoodFile:
    """A DOCX with a Title paragraph, body paragraphs, a bulleted list and a table."""
    import docx

    document = docx.Document()
    document.add_heading(GOOD_TITLE, level=0)
    document.add_paragraph(f"Posted: {GOOD_POSTED}")
    document.add_paragraph(GOOD_PHRASES[0])
    document.add_paragraph(GOOD_PHRASES[1], style="List Bullet")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Skill"
    table.cell(0, 1).text = "Level"
    table.cell(1, 0).text = "Terraform"
    table.cell(1, 1).text = "Advanced"
    document.add_paragraph(GOOD_PHRASES[2])
    buf = io.BytesIO()
    document.save(buf)
    return _write(directory, name, buf.getvalue()), (*GOOD_PHRASES, "Terraform | Advanced")


def make_good_html(directory: Path, name: str = "good.html") -> GoodFile:
    """HTML with <title>, a posted-date meta tag, nav/script/style/footer noise and a list."""
    html = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{GOOD_TITLE} | Example Corp</title>
<meta name="posted-date" content="{GOOD_POSTED}">
<style>body {{ color: red; }}</style>
<script>var tracking = "SHOULD_NOT_APPEAR";</script>
</head><body>
<nav><a href="/">Home NAVIGATION_NOISE</a></nav>
<h1>{GOOD_TITLE}</h1>
<div><p>{GOOD_PHRASES[0]}</p>
<p>Experience with <b>Apache Spark</b> and <i>Kubernetes</i> is required.</p>
<ul><li>{GOOD_PHRASES[2]}</li><li>Familiarity with dbt</li></ul></div>
<footer>Copyright FOOTER_NOISE</footer>
<script>console.log("SHOULD_NOT_APPEAR")</script>
</body></html>"""
    return _write(directory, name, html.encode("utf-8")), (*GOOD_PHRASES, "Familiarity with dbt")


GOOD_GENERATORS: dict[str, Callable[[Path], GoodFile]] = {
    "pdf": make_good_pdf,
    "docx": make_good_docx,
    "html": make_good_html,
    "txt": make_good_txt,
}

# --------------------------------------------------------------------------------------------------------
# hostile files
# --------------------------------------------------------------------------------------------------------


def make_missing_file(directory: Path, name: str = "missing.pdf") -> BadFile:
    directory.mkdir(parents=True, exist_ok=True)
    return directory / name, ErrorKind.FILE_NOT_FOUND


def make_empty_file(directory: Path, name: str = "empty.pdf") -> BadFile:
    return _write(directory, name, b""), ErrorKind.NO_TEXT


def make_oversized_file(directory: Path, name: str = "huge.txt", size: int = 52_428_800) -> BadFile:
    """A sparse file of ``size`` bytes (instant to create, uses no disk blocks)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    with open(path, "wb") as fh:
        fh.write(b"Large file\n")
        fh.truncate(size)
    return path, ErrorKind.TOO_LARGE


def make_corrupt_pdf(directory: Path, name: str = "corrupt.pdf") -> BadFile:
    """A %PDF header followed by garbage: no xref, no trailer, no objects."""
    rng = random.Random(7)
    garbage = bytes(rng.randrange(256) for _ in range(4000))
    return _write(directory, name, b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + garbage), ErrorKind.INVALID_FORMAT


def _cut_in_half(directory: Path, name: str, make_good: Callable[..., GoodFile], suffix: str) -> BadFile:
    """The first half of the bytes of a good file ``make_good`` writes (then removes)."""
    good, _ = make_good(directory, name=f"_tmp_for_truncation{suffix}")
    data = good.read_bytes()
    good.unlink()
    return _write(directory, name, data[: len(data) // 2]), ErrorKind.INVALID_FORMAT


def make_truncated_pdf(directory: Path, name: str = "truncated.pdf") -> BadFile:
    """A real PDF cut in half: the xref table and trailer are missing."""
    return _cut_in_half(directory, name, make_good_pdf, ".pdf")


def make_not_really_pdf(directory: Path, name: str = "notes.pdf") -> BadFile:
    """Plain text saved with a .pdf extension."""
    return _write(directory, name, b"These are plain text notes, not a PDF.\n"), ErrorKind.INVALID_FORMAT


def make_encrypted_pdf(directory: Path, name: str = "encrypted.pdf", password: str = "secret") -> BadFile:
    """A text PDF encrypted with a user password (RC4-128, which pypdf writes without extra packages)."""
    from pypdf import PdfReader, PdfWriter

    good, _ = make_good_pdf(directory, name="_tmp_for_encryption.pdf")
    writer = PdfWriter(clone_from=PdfReader(good))
    good.unlink()
    writer.encrypt(user_password=password, owner_password=password + "-owner", algorithm="RC4-128")
    buf = io.BytesIO()
    writer.write(buf)
    return _write(directory, name, buf.getvalue()), ErrorKind.INVALID_FORMAT


def make_blank_pdf(directory: Path, name: str = "scanned.pdf", pages: int = 2) -> BadFile:
    """A valid PDF whose pages have no text (what a scanned document looks like to a text extractor)."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=612, height=792)
    buf = io.BytesIO()
    writer.write(buf)
    return _write(directory, name, buf.getvalue()), ErrorKind.NO_TEXT


def make_binary_txt(directory: Path, name: str = "data.txt") -> BadFile:
    """Random binary bytes (with NULs) saved as .txt."""
    rng = random.Random(11)
    data = b"ELF-ish header\n" + bytes(rng.randrange(256) for _ in range(8192))
    return _write(directory, name, data), ErrorKind.INVALID_FORMAT


def make_control_chars_txt(directory: Path, name: str = "controls.txt") -> BadFile:
    """No NUL bytes, but a high share of control characters (e.g. a binary record dump)."""
    data = b"".join(bytes([1, 2, 3, 4, 5, 6]) + b"rec" for _ in range(500))
    return _write(directory, name, data), ErrorKind.INVALID_FORMAT


INVALID_UTF8_OFFSET = 26


def make_invalid_utf8_txt(directory: Path, name: str = "broken.txt") -> BadFile:
    """Text whose first invalid byte is at :data:`INVALID_UTF8_OFFSET` and which is not cp1252 either
    (it holds 0x81/0x8D, undefined in cp1252) nor mostly valid UTF-8 (many bad bytes)."""
    head = b"Course syllabus: Databases"  # 26 ASCII bytes
    assert len(head) == INVALID_UTF8_OFFSET
    body = b"".join(b"\x81\xff week %d \x8d\xfe topics\n" % i for i in range(40))
    return _write(directory, name, head + body), ErrorKind.INVALID_FORMAT


def make_cp1252_txt(directory: Path, name: str = "legacy.txt") -> GoodFile:
    """A legacy Windows-1252 file (decodes to the expected text)."""
    text = (
        "Caf\u00e9 management \u2013 r\u00e9sum\u00e9 writing and \u201cteamwork\u201d.\nPosted: 2023-11-02\n"
    )
    return _write(directory, name, text.encode("cp1252")), ("Caf\u00e9 management \u2013 r\u00e9sum\u00e9",)


def make_docx_not_zip(directory: Path, name: str = "broken.docx") -> BadFile:
    return _write(directory, name, b"This is not a zip archive at all.\n" * 10), ErrorKind.INVALID_FORMAT


def make_docx_truncated_zip(directory: Path, name: str = "truncated.docx") -> BadFile:
    """A real DOCX cut in half: PK magic present, central directory missing."""
    return _cut_in_half(directory, name, make_good_docx, ".docx")


def make_docx_without_document(directory: Path, name: str = "empty_package.docx") -> BadFile:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        zf.writestr("docProps/core.xml", '<?xml version="1.0"?><coreProperties/>')
    return _write(directory, name, buf.getvalue()), ErrorKind.INVALID_FORMAT


_CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
    b'content-types"><Default Extension="xml" ContentType="application/xml"/></Types>'
)


def _zeros_deflate(total: int, chunk: int = 1 << 24) -> tuple[bytes, int]:
    """Raw deflate stream of ``total`` zero bytes and its CRC-32, built from one compressed chunk repeated
    (a full flush makes each chunk's block independent, so the concatenation is a valid stream)."""
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = comp.compress(bytes(chunk)) + comp.flush(zlib.Z_FULL_FLUSH)
    full, rest = divmod(total, chunk)
    parts = [block] * full
    crc = 0
    zero_chunk = bytes(chunk)
    for _ in range(full):
        crc = zlib.crc32(zero_chunk, crc)
    tail = zlib.compressobj(9, zlib.DEFLATED, -15)
    parts.append(tail.compress(bytes(rest)) + tail.flush(zlib.Z_FINISH))
    crc = zlib.crc32(bytes(rest), crc)
    return b"".join(parts), crc


def _zip_bytes(members: list[tuple[str, bytes, int, int, int]]) -> bytes:
    """A minimal zip (no zip64) from (name, payload, method, crc, uncompressed_size) members."""
    out = io.BytesIO()
    central = io.BytesIO()
    dos_time, dos_date = 0, (2024 - 1980) << 9 | 1 << 5 | 1
    for name, payload, method, crc, usize in members:
        encoded = name.encode()
        offset = out.tell()
        # version needed, flags, method, time, date, crc, sizes, name length: the same in both headers
        shared = (20, 0, method, dos_time, dos_date, crc, len(payload), usize, len(encoded))
        out.write(struct.pack("<4s5H3L2H", b"PK\x03\x04", *shared, 0))  # + extra length
        out.write(encoded)
        out.write(payload)
        # + version made by first; + extra, comment, disk, internal and external attributes, local header offset
        central.write(struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, *shared, 0, 0, 0, 0, 0, offset))
        central.write(encoded)
    cd = central.getvalue()
    cd_offset = out.tell()
    out.write(cd)
    out.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(members), len(members), len(cd), cd_offset, 0))
    return out.getvalue()


def make_docx_zip_bomb(directory: Path, name: str = "bomb.docx", expanded: int = 1_200_000_000) -> BadFile:
    """A DOCX-shaped zip whose word/document.xml really inflates to ``expanded`` zero bytes (default 1.2 GB)
    from about expanded/1000 bytes on disk. Sizes in the headers are true, so only the size check stops it."""
    payload, crc = _zeros_deflate(expanded)
    data = _zip_bytes(
        [
            (
                "[Content_Types].xml",
                _CONTENT_TYPES,
                zipfile.ZIP_STORED,
                zlib.crc32(_CONTENT_TYPES),
                len(_CONTENT_TYPES),
            ),
            ("word/document.xml", payload, zipfile.ZIP_DEFLATED, crc, expanded),
        ]
    )
    return _write(directory, name, data), ErrorKind.TOO_LARGE


def make_docx_ratio_bomb(
    directory: Path, name: str = "ratio_bomb.docx", expanded: int = 50_000_000
) -> BadFile:
    """Under the total-size limit but with a ~1000x compression ratio (caught by the ratio check)."""
    return make_docx_zip_bomb(directory, name, expanded)


def make_nested_html(directory: Path, name: str = "nested.html", depth: int = 10_000) -> BadFile:
    html = "<!DOCTYPE html><html><body>" + "<div>" * depth + "deep" + "</div>" * depth + "</body></html>"
    return _write(directory, name, html.encode()), ErrorKind.INVALID_FORMAT


def make_script_only_html(directory: Path, name: str = "script_only.html") -> BadFile:
    html = (
        "<!DOCTYPE html><html><head><title></title><script>var a = 'hidden text';</script></head>"
        "<body><script>document.write('rendered by js')</script><style>p{}</style>"
        "<nav>Home About</nav><footer>(c) 2024</footer></body></html>"
    )
    return _write(directory, name, html.encode()), ErrorKind.NO_TEXT


def make_whitespace_txt(directory: Path, name: str = "blank.txt") -> BadFile:
    return _write(directory, name, b" \n\t\r\n   \n...\n"), ErrorKind.NO_TEXT


def make_unsupported_extension(directory: Path, name: str = "sheet.xyz") -> BadFile:
    return _write(directory, name, b"a,b,c\n1,2,3\n"), ErrorKind.INVALID_FORMAT


def make_png_as_pdf(directory: Path, name: str = "photo.pdf") -> BadFile:
    return _write(directory, name, b"\x89PNG\r\n\x1a\n" + bytes(200)), ErrorKind.INVALID_FORMAT


BAD_GENERATORS: dict[str, Callable[[Path], BadFile]] = {
    "missing": make_missing_file,
    "empty": make_empty_file,
    "oversized": make_oversized_file,
    "corrupt_pdf": make_corrupt_pdf,
    "truncated_pdf": make_truncated_pdf,
    "not_really_pdf": make_not_really_pdf,
    "encrypted_pdf": make_encrypted_pdf,
    "blank_pdf": make_blank_pdf,
    "binary_txt": make_binary_txt,
    "control_chars_txt": make_control_chars_txt,
    "invalid_utf8_txt": make_invalid_utf8_txt,
    "docx_not_zip": make_docx_not_zip,
    "docx_truncated_zip": make_docx_truncated_zip,
    "docx_without_document": make_docx_without_document,
    "docx_zip_bomb": make_docx_zip_bomb,
    "docx_ratio_bomb": make_docx_ratio_bomb,
    "nested_html": make_nested_html,
    "script_only_html": make_script_only_html,
    "whitespace_txt": make_whitespace_txt,
    "unsupported_extension": make_unsupported_extension,
    "png_as_pdf": make_png_as_pdf,
}

# A fragment of the message parse_document must give for each hostile file (default parse limits).
EXPECTED_MESSAGE: dict[str, str] = {
    "missing": "file not found",
    "empty": "file is empty (0 bytes)",
    "oversized": "file is 52,428,800 bytes, over the 10,000,000-byte limit",
    "corrupt_pdf": "PDF is corrupt",
    "truncated_pdf": "PDF is corrupt",
    "not_really_pdf": "PDF is corrupt: no %PDF header",
    "encrypted_pdf": "PDF is encrypted",
    "blank_pdf": "no extractable text (scanned PDF?)",
    "binary_txt": "binary content in a .txt file",
    "control_chars_txt": "binary content in a .txt file",
    "invalid_utf8_txt": f"invalid UTF-8 at byte {INVALID_UTF8_OFFSET}",
    "docx_not_zip": "DOCX is not a valid zip archive",
    "docx_truncated_zip": "DOCX is not a valid zip archive",
    "docx_without_document": "no word/document.xml",
    "docx_zip_bomb": "DOCX expands to 1.2 GB, over the 200 MB limit (zip bomb?)",
    "docx_ratio_bomb": "zip bomb?",
    "nested_html": "HTML nesting depth 10,00",
    "script_only_html": "no extractable text",
    "whitespace_txt": "no extractable text",
    "unsupported_extension": "unsupported file type '.xyz'",
    "png_as_pdf": "PNG image",
}


def make_all_bad(directory: Path) -> dict[str, BadFile]:
    """Every hostile file, keyed like :data:`BAD_GENERATORS`."""
    return {key: make(directory) for key, make in BAD_GENERATORS.items()}
