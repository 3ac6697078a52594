from __future__ import annotations

import hashlib
import os
import signal
import threading
import zipfile
from datetime import date
from pathlib import Path

import pytest

from skillatlas.errors import ErrorKind, ItemError, classify_exception
from skillatlas.ingest import parsing
from skillatlas.ingest.parsing import (
    SUPPORTED_EXTENSIONS,
    ParsedDocument,
    content_sha256,
    decode_text,
    detect_format,
    html_nesting_depth,
    parse_document,
)
from tests.support import bad_files
from tests.support.bad_files import BAD_GENERATORS, EXPECTED_MESSAGE, GOOD_GENERATORS


# ---------------------------------------------------------------------------------------------- hostile files
@pytest.mark.parametrize("key", sorted(BAD_GENERATORS))
def test_hostile_file_gives_specific_item_error(tmp_path: Path, key: str) -> None:
    path, kind = BAD_GENERATORS[key](tmp_path)
    with pytest.raises(ItemError) as info:
        parse_document(path)
    err = info.value
    assert err.kind is kind, str(err)
    assert EXPECTED_MESSAGE[key] in err.message
    assert str(err) == f"{kind.value}: {err.message}"
    assert err.transient is False


def test_oversized_is_rejected_by_stat_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, _ = bad_files.make_oversized_file(tmp_path, size=5_000_000_000)  # sparse 5 GB

    def no_open(*args: object, **kwargs: object) -> None:
        raise AssertionError("the file must not be opened")

    monkeypatch.setattr("builtins.open", no_open)
    with pytest.raises(ItemError) as info:
        parse_document(path)
    assert info.value.message == "file is 5,000,000,000 bytes, over the 10,000,000-byte limit"


def test_max_bytes_is_configurable(tmp_path: Path) -> None:
    path, _ = bad_files.make_good_txt(tmp_path)
    with pytest.raises(ItemError) as info:
        parse_document(path, max_bytes=50)
    assert info.value.kind is ErrorKind.TOO_LARGE
    assert "over the 50-byte limit" in info.value.message


def test_zip_bomb_is_rejected_without_decompressing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path, _ = bad_files.make_docx_zip_bomb(tmp_path)
    assert path.stat().st_size < 2_000_000

    def no_read(*args: object, **kwargs: object) -> bytes:
        raise AssertionError("a zip member was decompressed")

    monkeypatch.setattr(zipfile.ZipExtFile, "read", no_read)
    with pytest.raises(ItemError) as info:
        parse_document(path)
    assert info.value.kind is ErrorKind.TOO_LARGE
    assert info.value.message == "DOCX expands to 1.2 GB, over the 200 MB limit (zip bomb?)"


def test_zip_bomb_generator_is_a_real_bomb(tmp_path: Path) -> None:
    path, _ = bad_files.make_docx_zip_bomb(tmp_path, expanded=20_000_000)
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None  # CRCs are right: it really inflates to 20 MB
        info = zf.getinfo("word/document.xml")
        assert info.file_size == 20_000_000
        assert info.compress_size < 50_000


def test_nested_html_depth_is_reported_exactly(tmp_path: Path) -> None:
    path, _ = bad_files.make_nested_html(tmp_path, depth=1_500)
    with pytest.raises(ItemError) as info:
        parse_document(path)
    assert info.value.message == "HTML nesting depth 1,502 exceeds 1,000"  # html + body + 1,500 divs


def test_moderately_nested_html_is_parsed(tmp_path: Path) -> None:
    path, _ = bad_files.make_nested_html(tmp_path, depth=900)
    assert parse_document(path).text == "deep"


def test_directory_and_fifo_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(ItemError) as info:
        parse_document(tmp_path)
    assert "is a directory" in info.value.message
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    with pytest.raises(ItemError) as info:
        parse_document(fifo)  # must not block on open()
    assert info.value.kind is ErrorKind.INVALID_FORMAT
    assert "not a regular file" in info.value.message


def test_legacy_doc_is_named(tmp_path: Path) -> None:
    path = tmp_path / "old.doc"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    with pytest.raises(ItemError) as info:
        parse_document(path)
    assert "legacy Office (OLE2)" in info.value.message


def test_zip_that_is_not_docx(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(ItemError) as info:
        parse_document(path)
    assert info.value.kind is ErrorKind.INVALID_FORMAT
    assert "without word/document.xml" in info.value.message


def test_pdf_page_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path, _ = bad_files.make_good_pdf(tmp_path, pages=4)
    monkeypatch.setattr(parsing.pdf, "PDF_MAX_PAGES", 2)
    doc = parse_document(path)
    assert doc.page_count == 4
    assert doc.truncated is True
    assert "Page 2." in doc.text
    assert "Page 3." not in doc.text


def test_timeout_interrupts_a_slow_parser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        pytest.skip("SIGALRM needs the main thread")
    if signal.getsignal(signal.SIGALRM) not in (signal.SIG_DFL, None):
        pytest.skip("another SIGALRM handler is installed")
    path, _ = bad_files.make_good_pdf(tmp_path)

    def slow_pdf(*args: object) -> None:
        while True:  # a parser stuck in a pathological page; swallows ordinary exceptions
            try:
                sum(range(10_000))
            except Exception:
                pass

    monkeypatch.setattr(parsing.budget, "PARSE_TIMEOUT_S", 0.2)
    monkeypatch.setattr(parsing.pdf, "parse_pdf", slow_pdf)
    with pytest.raises(ItemError) as info:
        parse_document(path)
    assert info.value.kind is ErrorKind.TIMEOUT
    assert "PDF parsing took over 0.2 s" in info.value.message
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, None)


# ---------------------------------------------------------------------------------------------- good files
@pytest.mark.parametrize("fmt", sorted(GOOD_GENERATORS))
def test_good_file_text(tmp_path: Path, fmt: str) -> None:
    path, phrases = GOOD_GENERATORS[fmt](tmp_path)
    doc = parse_document(path)
    assert isinstance(doc, ParsedDocument)
    assert doc.format == fmt
    for phrase in phrases:
        assert phrase in doc.text
    assert doc.posted_date == date(2024, 3, 15)
    assert doc.title is not None and doc.title.startswith("Senior Data Engineer")
    assert doc.truncated is False
    assert "\r" not in doc.text and "\x00" not in doc.text


def test_pdf_page_count_and_pages_joined(tmp_path: Path) -> None:
    path, _ = bad_files.make_good_pdf(tmp_path, pages=3)
    doc = parse_document(path)
    assert doc.page_count == 3
    assert "skills.\n\nPage 2." in doc.text


def test_docx_lists_and_tables(tmp_path: Path) -> None:
    path, _ = bad_files.make_good_docx(tmp_path)
    doc = parse_document(path)
    assert doc.title == "Senior Data Engineer"
    assert "\u2022 Experience with Apache Spark" in doc.text
    assert "Skill | Level\nTerraform | Advanced" in doc.text


def test_html_drops_noise_and_keeps_blocks(tmp_path: Path) -> None:
    path, _ = bad_files.make_good_html(tmp_path)
    doc = parse_document(path)
    assert doc.title == "Senior Data Engineer | Example Corp"
    for noise in ("SHOULD_NOT_APPEAR", "NAVIGATION_NOISE", "FOOTER_NOISE", "color: red"):
        assert noise not in doc.text
    lines = doc.text.split("\n")
    assert "Experience with Apache Spark and Kubernetes is required." in lines  # inline tags stay inline
    assert "\u2022 Familiarity with dbt" in lines


@pytest.mark.parametrize(
    ("name", "html", "encoding", "expected"),
    [
        pytest.param(
            "job.html",
            "<html><body><h1> Data   Analyst </h1><p>Posted: 2023-02-28</p><p>Use Excel.</p></body></html>",
            "utf-8", {"title": "Data Analyst", "posted_date": date(2023, 2, 28)},
            id="title_falls_back_to_h1_and_posted_line",
        ),
        pytest.param(
            "page.txt",
            "<!DOCTYPE html><html><head><title>T</title></head><body><p>Hello world</p></body></html>",
            "utf-8", {"format": "html", "text": "Hello world"},
            id="without_extension_or_with_txt_extension_is_detected",
        ),
        pytest.param(
            "latin.html",
            '<html><head><meta charset="iso-8859-1"></head><body><p>Gest\u00e3o de projetos</p></body></html>',
            "latin-1", {"text": "Gest\u00e3o de projetos"},
            id="in_legacy_charset",
        ),
    ],
)
def test_html_document(tmp_path: Path, name: str, html: str, encoding: str, expected: dict[str, object]) -> None:
    path = tmp_path / name
    path.write_bytes(html.encode(encoding))
    doc = parse_document(path)
    assert {field: getattr(doc, field) for field in expected} == expected


def test_txt_title_posted_date_and_cleanup(tmp_path: Path) -> None:
    path = tmp_path / "job.txt"
    path.write_bytes(
        b"\xef\xbb\xbf\n\n  Machine Learning Engineer  \r\nposted on: 2022-12-01\r\n"
        b"Work\twith   PyTorch.\x00\n\n\n\n\nBuild models."
    )
    doc = parse_document(path)
    assert doc.title == "Machine Learning Engineer"
    assert doc.posted_date == date(2022, 12, 1)
    assert doc.text == "Machine Learning Engineer\nposted on: 2022-12-01\nWork with PyTorch.\n\nBuild models."


def test_invalid_posted_date_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "job.txt"
    path.write_text("Analyst\nPosted: 2024-13-45\nSQL\n")
    doc = parse_document(path)
    assert doc.posted_date is None
    assert doc.title == "Analyst"


def test_long_first_line_is_not_a_title(tmp_path: Path) -> None:
    path = tmp_path / "job.txt"
    path.write_text("word " * 100 + "\nShort Title\nbody")
    assert parse_document(path).title == "Short Title"


def test_truncation_above_max_chars(tmp_path: Path) -> None:
    path = tmp_path / "long.txt"
    path.write_text("Title\n" + "lorem ipsum dolor " * 2_000)
    doc = parse_document(path, max_chars=1_000)
    assert doc.truncated is True
    assert 900 <= len(doc.text) <= 1_000
    assert not doc.text.endswith(" ")


def test_cp1252_fallback(tmp_path: Path) -> None:
    path, phrases = bad_files.make_cp1252_txt(tmp_path)
    doc = parse_document(path)
    assert phrases[0] in doc.text
    assert "\u201cteamwork\u201d" in doc.text
    assert doc.posted_date == date(2023, 11, 2)


def test_mostly_valid_utf8_is_decoded_with_replacement() -> None:
    data = ("R\u00e9sum\u00e9 writing and data analysis. " * 100).encode() + b"\xff" + b" end"
    text = decode_text(data)
    assert text.count("\ufffd") == 1
    assert text.startswith("R\u00e9sum\u00e9")


def test_utf16_with_bom() -> None:
    assert decode_text("Caf\u00e9 au lait".encode("utf-16")) == "Caf\u00e9 au lait"


def test_cp1252_undefined_byte_is_an_error() -> None:
    with pytest.raises(ItemError) as info:
        decode_text(b"Plain ascii then \x81 undefined")
    assert info.value.message.startswith("invalid UTF-8 at byte 17")


# ---------------------------------------------------------------------------------------------- helpers
def test_detect_format_magic_beats_extension(tmp_path: Path) -> None:
    pdf, _ = bad_files.make_good_pdf(tmp_path)
    renamed = tmp_path / "actually_pdf.txt"
    renamed.write_bytes(pdf.read_bytes())
    assert detect_format(renamed, renamed.read_bytes()[:2048]) == "pdf"
    docx, _ = bad_files.make_good_docx(tmp_path)
    renamed_docx = tmp_path / "upload.bin"
    renamed_docx.write_bytes(docx.read_bytes())
    assert detect_format(renamed_docx, renamed_docx.read_bytes()[:2048]) == "docx"
    assert detect_format(tmp_path / "x.HTM", b"hello") == "html"
    assert detect_format(tmp_path / "README", b"hello") == "txt"
    assert {".pdf", ".docx", ".html", ".txt"} <= SUPPORTED_EXTENSIONS


def test_html_nesting_depth_counter() -> None:
    assert html_nesting_depth("<html><body><div><p>a<br>b<img src=x></p></div></body></html>") == 4
    assert html_nesting_depth("<ul><li>a<li>b<li>c</ul>") == 2  # implied </li>
    assert html_nesting_depth("<p>a<p>b<p>c") == 1
    assert html_nesting_depth("<div><script>if (a<b) { x = '<div><div><div>' }</script></div>") == 2
    assert html_nesting_depth("<div><!-- <div><div><div> --></div>") == 1
    assert html_nesting_depth("<div>" * 5000, stop_at=100) == 101


def test_content_sha256_streams(tmp_path: Path) -> None:
    path = tmp_path / "blob.bin"
    data = os.urandom(3 * 1024 * 1024 + 17)
    path.write_bytes(data)
    assert content_sha256(path) == hashlib.sha256(data).hexdigest()
    assert content_sha256(path, chunk_size=1000) == hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------------------------------------- errors
def test_item_error_str_and_pickle() -> None:
    import pickle

    err = ItemError(ErrorKind.TIMEOUT, "took too long", transient=True)
    assert str(err) == "timeout: took too long"
    clone = pickle.loads(pickle.dumps(err))
    assert (clone.kind, clone.message, clone.transient) == (ErrorKind.TIMEOUT, "took too long", True)


def test_classify_exception() -> None:
    import io

    assert classify_exception(FileNotFoundError(2, "No such file", "/x.pdf")).kind is ErrorKind.FILE_NOT_FOUND
    assert classify_exception(PermissionError(13, "denied", "/x")).message == "permission denied: /x"
    assert classify_exception(MemoryError()).kind is ErrorKind.TOO_LARGE
    timeout = classify_exception(TimeoutError("slow"))
    assert (timeout.kind, timeout.transient) == (ErrorKind.TIMEOUT, True)
    try:
        b"ab\xff".decode("utf-8")
    except UnicodeDecodeError as exc:
        decoded = classify_exception(exc)
    assert decoded.kind is ErrorKind.INVALID_FORMAT and "at byte 2" in decoded.message
    try:
        zipfile.ZipFile(io.BytesIO(b"nope"))
    except zipfile.BadZipFile as exc:
        assert classify_exception(exc).kind is ErrorKind.INVALID_FORMAT
    conn = classify_exception(ConnectionResetError("reset"))
    assert conn.transient is True

    # a look-alike of sqlalchemy.exc.OperationalError, matched by class name and module
    operational = type("OperationalError", (Exception,), {"__module__": "sqlalchemy.exc"})
    integrity = type("IntegrityError", (Exception,), {"__module__": "sqlalchemy.exc"})
    db = classify_exception(operational("server closed the connection"))
    assert (db.kind, db.transient) == (ErrorKind.DATABASE_ERROR, True)
    assert db.message == "OperationalError: server closed the connection"
    dup = classify_exception(integrity("duplicate key"))
    assert (dup.kind, dup.transient) == (ErrorKind.DATABASE_ERROR, False)
    same = ItemError(ErrorKind.NO_TEXT, "x")
    assert classify_exception(same) is same


def test_docx_heading_1_is_the_title(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_paragraph("Course code CS-101: a long introduction that is not a heading at all, really.")
    document.add_heading("Introduction to Databases", level=1)
    document.add_paragraph("Relational modelling and SQL.")
    path = tmp_path / "course.docx"
    document.save(str(path))
    doc = parse_document(path)
    assert doc.title == "Introduction to Databases"
    assert doc.text.endswith("Relational modelling and SQL.")
