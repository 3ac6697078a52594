"""The committed sample corpus in data/sample_inbox has the promised size, formats and dates."""

from __future__ import annotations

import re
import zipfile
from datetime import date, timedelta

from skillatlas import paths

EXTS = {".pdf", ".docx", ".html", ".txt"}
POSTED = re.compile(r"^Posted: (\d{4}-\d{2}-\d{2})$", re.M)
ANCHOR = date(2026, 11, 20)


def _files(kind: str):
    return sorted(p for p in (paths.SAMPLE_INBOX / kind).iterdir() if p.is_file())


def _in_window(s: str) -> bool:
    d = date.fromisoformat(s)
    return ANCHOR - timedelta(days=45) <= d < ANCHOR


def test_jobs_count_and_formats() -> None:
    jobs = _files("jobs")
    assert len(jobs) >= 150
    assert {p.suffix for p in jobs} == EXTS
    assert all(re.fullmatch(r"job-(train|dev)-\d{4}-(house|tech)\.(pdf|docx|html|txt)", p.name) for p in jobs)
    pdf_share = sum(p.suffix == ".pdf" for p in jobs) / len(jobs)
    assert 0.2 < pdf_share < 0.4


def test_courses_count_and_formats() -> None:
    courses = _files("courses")
    assert len(courses) >= 40
    assert {p.suffix for p in courses} == EXTS
    assert all(p.name.startswith("course-") for p in courses)


def test_every_job_has_posted_date() -> None:
    days = set()
    for p in _files("jobs"):
        if p.suffix == ".txt":
            text = p.read_text(encoding="utf-8")
        elif p.suffix == ".html":
            text = p.read_text(encoding="utf-8")
            meta = re.search(r'<meta name="posted-date" content="(\d{4}-\d{2}-\d{2})">', text)
            assert meta, p.name
            assert _in_window(meta.group(1))
            text = re.sub(r"<[^>]+>", "\n", text)
        elif p.suffix == ".docx":
            with zipfile.ZipFile(p) as zf:
                xml = zf.read("word/document.xml").decode("utf-8")
            text = "\n".join(re.sub(r"<[^>]+>", "", para) for para in xml.split("</w:p>"))
        else:
            head = p.read_bytes()[:8]
            assert head.startswith(b"%PDF-"), p.name
            continue  # PDF text is compressed; the parsing module's tests cover it
        m = POSTED.search(text)
        assert m, p.name
        assert _in_window(m.group(1)), p.name
        days.add(m.group(1))
    assert len(days) >= 30  # daily trends need many distinct days


def test_courses_have_content() -> None:
    for p in _files("courses"):
        if p.suffix in {".txt", ".html"}:
            text = p.read_text(encoding="utf-8")
            assert "Learning outcomes" in text, p.name
            assert "Assessment" in text, p.name
            assert len(text.split()) >= 250, p.name


def test_bad_files_kept_out_of_inbox() -> None:
    bad = paths.REPO_ROOT / "data" / "sample_bad"
    assert (bad / "empty.txt").stat().st_size == 0
    assert (bad / "corrupt.pdf").read_bytes().startswith(b"%PDF")
    assert b"\x00" in (bad / "binary.txt").read_bytes()
    names = {p.name for p in paths.SAMPLE_INBOX.rglob("*")}
    assert not names & {"empty.txt", "corrupt.pdf", "binary.txt"}


def test_inbox_size_budget() -> None:
    total = sum(p.stat().st_size for p in paths.SAMPLE_INBOX.rglob("*") if p.is_file())
    assert total < 6_000_000
