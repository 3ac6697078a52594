"""Build the committed sample corpus in data/sample_inbox/ (jobs/ and courses/) and data/sample_bad/.

Usage::

    python scripts/build_sample_corpus.py [RAW_DATA_DIR]

* jobs/: the SkillSpan train + dev job postings (MIT / CC BY 4.0, Zhang et al. NAACL 2022), rebuilt from
  their token lists into documents; de-identification placeholders (<ORGANIZATION>, <LOCATION>, ...) are kept.
  Each gets a deterministic ``Posted: YYYY-MM-DD`` date in the 45 days before 2026-11-20.
* courses/: syllabi written for this project (scripts/syllabi/*.md).
* Formats are mixed deterministically over PDF (fpdf2), DOCX (python-docx), HTML and TXT.
* sample_bad/: three deliberately broken inputs (empty .txt, corrupt .pdf, binary .txt).

The output is byte-for-byte deterministic (fixed PDF/DOCX timestamps, normalised zip entries).
"""

from __future__ import annotations

import argparse
import html
import io
import json
import random
import re
import shutil
import sys
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_RAW = (REPO_ROOT / ".." / "shared" / "data").resolve()
INBOX = REPO_ROOT / "data" / "sample_inbox"
BAD_DIR = REPO_ROOT / "data" / "sample_bad"
SYLLABI_DIR = Path(__file__).resolve().parent / "syllabi"

ANCHOR_DATE = date(2026, 11, 20)  # postings are dated in the 45 days before this day
WINDOW_DAYS = 45
FIXED_TIME = datetime(2026, 11, 20, 9, 0, 0, tzinfo=UTC)
ZIP_TIME = (2026, 11, 20, 9, 0, 0)

# Format cycles: jobs ~30% pdf / 25% docx / 25% html / 20% txt; courses roughly equal.
JOB_CYCLE = ["pdf", "docx", "html", "pdf", "txt", "docx", "html", "pdf", "txt", "html",
             "pdf", "docx", "txt", "pdf", "html", "docx", "pdf", "txt", "html", "docx"]
COURSE_CYCLE = ["docx", "pdf", "html", "txt"]

PLACEHOLDER = re.compile(r"<[A-Z_]+>")


# --------------------------------------------------------------------------------------------- model
@dataclass
class Doc:
    title: str
    posted: date | None = None
    meta: list[str] = field(default_factory=list)  # short "Key: value" lines shown under the title
    blocks: list[tuple[str, str | list[str]]] = field(default_factory=list)  # ("h"|"p", str) | ("ul", [..])


# --------------------------------------------------------------------------------------------- jobs
def detokenise(tokens: list[str]) -> str:
    s = " ".join(t for t in tokens if t.strip())
    s = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in s)  # no control characters
    s = re.sub(r"(<[A-Z_]+>)(?:\s+\1)+", r"\1", s)  # collapse runs of the same placeholder
    s = re.sub(r"\s+([.,;:!?%)\]}])", r"\1", s)
    s = re.sub(r"([(\[{])\s+", r"\1", s)
    s = re.sub(r"\s+(n't|'s|'re|'ve|'ll|'d|'m)\b", r"\1", s)
    s = re.sub(r"\s+/\s+", "/", s) if " / " in s and len(s) < 40 else s
    s = re.sub(r"\s{2,}", " ", s)
    return s.strip()


def _words(s: str) -> int:
    return len(s.split())


_NOT_TITLE = re.compile(
    r"(?i)^(we|are you|do you|would you|can you|about|job description|description|the|a|an|for|at|what|"
    r"looking|please|note|live|on|you|this|challenging|pioneer|research|as|organization name)\b"
)
_ROLE = r"([A-Z][\w&/+#-]*(?:[ -][\w&/+#()-]+){0,5}?)"
_ROLE_PATTERNS = [
    re.compile(r"Official Title:\s*(.+?)\s+(?:Job Area|Country|Location):"),
    re.compile(r"(?:looking for|searching for|seeking|recruiting|recruit) (?:a|an|one|two|new|our next)?\s*"
               r"(?:highly motivated |talented |skilled |dedicated |experienced |enthusiastic |new )*"
               + _ROLE + r"(?= (?:to|for|with|who|in|at|that|on|and)\b|[.,(])"),
    re.compile(r"(?i:position as|appointment as|opening for a position as) (?:an? )?" + _ROLE
               + r"(?= (?:at|in|with|is|within|starting|for)\b|[.,(])"),
    re.compile(r"(?:^|\. )As (?:an? )?" + _ROLE + r"(?= (?:in|at|you|with)\b|,)"),
    re.compile(r"(?:be|become) (?:the|our|a|an) " + _ROLE + r"(?= (?:ensuring|who|to|in|at|for)\b|[.,?])"),
    re.compile(r"A (?:3-year )?(PhD (?:scholarship|position|stipend)|[Pp]ostdoc(?:toral)? position)"),
]


def _looks_like_title(s: str) -> bool:
    if not s or _words(s) > 12 or s[-1] in ".?!":
        return False
    if not (s[0].isupper() or s[0].isdigit()):
        return False
    if _NOT_TITLE.match(s) and not re.match(r"(?i)research (engineer|scientist)", s):
        return False
    core = PLACEHOLDER.sub("", s).strip(" -|,:")
    return _words(core) >= 2 or (_words(core) == 1 and len(core) > 3 and s == core)


def _clean_title(s: str) -> str:
    s = re.sub(r"(\s*[-|,:]?\s*<[A-Z_]+>)+\s*$", "", s).strip(" -|,:")
    return s


def choose_title(lines: list[str], source: str) -> tuple[str, bool]:
    """Return (title, consumed_first_line); ("", False) when no title can be found."""
    first = lines[0] if lines else ""
    if source == "tech" and first:
        # tech postings start with the job title, sometimes followed by company/location placeholders
        segments = [seg.strip(" -|,:(") for seg in PLACEHOLDER.split(first)]
        segments = [seg for seg in segments if _words(seg) >= 1 and re.search(r"[A-Za-z]{2}", seg)]
        if segments and _words(segments[0]) <= 14:
            title = re.sub(r"\s+\(?(at|in|for)$", "", segments[0]).strip(" -|,:(")
            return title, title == first
    if _looks_like_title(first):
        cleaned = _clean_title(first)
        if cleaned and not cleaned.startswith("<") and (source == "tech" or _words(cleaned) >= 2):
            return cleaned, True
    m = re.match(r"^([A-Z][\w&/+#.()-]*(?:\s+[\w&/+#.()-]+){1,6}?)\s+<[A-Z_]+>", first)
    if m and not _NOT_TITLE.match(m.group(1)):
        return m.group(1).strip(" -|,:"), False
    head = " ".join(lines[:3])
    for pat in _ROLE_PATTERNS:
        m = pat.search(head)
        if m and "<" not in m.group(1):
            role = m.group(1).strip(" -|,:")
            return role[:1].upper() + role[1:], False
    return "", False


def lines_to_blocks(lines: list[str]) -> list[tuple[str, str | list[str]]]:
    blocks: list[tuple[str, str | list[str]]] = []
    para: list[str] = []
    items: list[str] = []

    def flush_para() -> None:
        if para:
            blocks.append(("p", " ".join(para)))
            para.clear()

    def flush_items() -> None:
        if len(items) >= 2:
            blocks.append(("ul", list(items)))
        elif items:
            blocks.append(("p", items[0]))
        items.clear()

    for line in lines:
        if line.endswith(":") and _words(line) <= 6:
            flush_para()
            flush_items()
            blocks.append(("h", line.rstrip(":")))
        elif _words(line) <= 10 and line[-1] not in ".!?":
            flush_para()
            items.append(line)
        else:
            flush_items()
            para.append(line)
            if len(para) >= 4:
                flush_para()
    flush_para()
    flush_items()
    return blocks


def load_postings(raw: Path) -> list[tuple[str, int, str, list[str]]]:
    """(split, idx, source, detokenised lines) for every posting of train and dev, in file order."""
    out: list[tuple[str, int, str, list[str]]] = []
    for split in ("train", "dev"):
        path = raw / "job_postings_skillspan" / f"{split}.json"
        current: tuple[int, str] | None = None
        lines: list[str] = []
        with path.open(encoding="utf-8") as fh:
            for raw_line in fh:
                if not raw_line.strip():
                    continue
                rec = json.loads(raw_line)
                key = (int(rec["idx"]), str(rec["source"]))
                if key != current:
                    if current is not None:
                        out.append((split, current[0], current[1], lines))
                    current, lines = key, []
                text = detokenise(rec["tokens"])
                if text:
                    lines.append(text)
        if current is not None:
            out.append((split, current[0], current[1], lines))
    return out


def posting_docs(raw: Path) -> list[tuple[str, Doc]]:
    postings = load_postings(raw)
    docs: list[tuple[str, Doc]] = []
    for i, (split, idx, source, lines) in enumerate(postings):
        # drop the scraped posting date of the original (the corpus date is the Posted: line)
        body = [re.sub(r"(?i)\bdate posted:\s*\d{4}-\d{2}-\d{2}\s*", "", ln).strip() for ln in lines]
        body = [ln for ln in body if ln]
        title, consumed = choose_title(body, source)
        if consumed:
            body = body[1:]
        if not title:
            title = f"Job posting {split}-{idx:04d} ({source})"
        # 17 is coprime with 45, so consecutive postings walk over every day of the window
        posted = ANCHOR_DATE - timedelta(days=1 + (i * 17) % WINDOW_DAYS)
        doc = Doc(title=title, posted=posted, blocks=lines_to_blocks(body))
        stem = f"job-{split}-{idx:04d}-{source}"
        docs.append((stem, doc))
    return docs


# --------------------------------------------------------------------------------------------- courses
def slugify(s: str, max_len: int = 60) -> str:
    s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode().lower()
    s = re.sub(r"[^a-z0-9]+", "-", s).strip("-")
    return s[:max_len].rstrip("-")


def parse_syllabus(text: str) -> tuple[str, Doc]:
    """Parse the small markdown dialect of scripts/syllabi/*.md -> (course code, Doc)."""
    lines = text.splitlines()
    title_line = next(ln for ln in lines if ln.startswith("# "))
    heading = title_line[2:].strip()
    code, _, name = heading.partition(":")
    doc = Doc(title=heading)
    para: list[str] = []
    items: list[str] = []
    in_header = True

    def flush() -> None:
        if para:
            doc.blocks.append(("p", " ".join(para)))
            para.clear()
        if items:
            doc.blocks.append(("ul", list(items)))
            items.clear()

    for ln in lines[lines.index(title_line) + 1:]:
        s = ln.strip()
        if not s:
            flush()
            continue
        if s.startswith("## "):
            in_header = False
            flush()
            doc.blocks.append(("h", s[3:].strip()))
        elif in_header:
            doc.meta.append(s)
        elif s.startswith("- "):
            if para:
                doc.blocks.append(("p", " ".join(para)))
                para.clear()
            items.append(s[2:].strip())
        else:
            if items:
                flush()
            para.append(s)
    flush()
    if not name:
        raise ValueError(f"syllabus heading must be '# CODE: Title', got {heading!r}")
    return code.strip(), doc


def course_docs() -> list[tuple[str, Doc]]:
    docs = []
    for path in sorted(SYLLABI_DIR.glob("*.md")):
        code, doc = parse_syllabus(path.read_text(encoding="utf-8"))
        name = doc.title.partition(":")[2]
        docs.append((f"course-{slugify(code, 12)}-{slugify(name)}", doc))
    return docs


# --------------------------------------------------------------------------------------------- writers
_LATIN1_MAP = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201c": '"', "\u201d": '"', "\u201e": '"',
    "\u2013": "-", "\u2014": "-", "\u2212": "-", "\u2022": "-", "\u2026": "...", "\u20ac": "EUR",
    "\u2122": "(TM)", "\u2192": "->", "\u2264": "<=", "\u2265": ">=", "\u00a0": " ", "\u200b": "",
})


def to_latin1(s: str) -> str:
    s = s.translate(_LATIN1_MAP)
    out = []
    for ch in s:
        try:
            ch.encode("latin-1")
            out.append(ch)
        except UnicodeEncodeError:
            base = unicodedata.normalize("NFKD", ch).encode("latin-1", "ignore").decode("latin-1")
            out.append(base if base.strip() else "?")
    return "".join(out)


def header_lines(doc: Doc) -> list[str]:
    lines = list(doc.meta)
    if doc.posted is not None:
        lines.insert(0, f"Posted: {doc.posted.isoformat()}")
    return lines


def render_txt(doc: Doc) -> bytes:
    parts = [doc.title, "=" * min(len(doc.title), 72), ""]
    parts += header_lines(doc)
    for kind, content in doc.blocks:
        parts.append("")
        if kind == "h":
            parts.append(str(content))
            parts.append("-" * min(len(str(content)), 72))
        elif kind == "ul":
            parts += [f"- {item}" for item in content]
        else:
            parts.append(str(content))
    return ("\n".join(parts) + "\n").encode("utf-8")


def render_html(doc: Doc) -> bytes:
    e = html.escape
    head = ['<!DOCTYPE html>', '<html lang="en">', "<head>", '<meta charset="utf-8">',
            f"<title>{e(doc.title)}</title>"]
    if doc.posted is not None:
        head.append(f'<meta name="posted-date" content="{doc.posted.isoformat()}">')
    head += ["</head>", "<body>", "<article>", f"<h1>{e(doc.title)}</h1>"]
    for line in header_lines(doc):
        head.append(f'<p class="meta">{e(line)}</p>')
    for kind, content in doc.blocks:
        if kind == "h":
            head.append(f"<h2>{e(str(content))}</h2>")
        elif kind == "ul":
            head.append("<ul>")
            head += [f"  <li>{e(item)}</li>" for item in content]
            head.append("</ul>")
        else:
            head.append(f"<p>{e(str(content))}</p>")
    head += ["</article>", "</body>", "</html>"]
    return ("\n".join(head) + "\n").encode("utf-8")


def render_pdf(doc: Doc) -> bytes:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_creation_date(FIXED_TIME)
    pdf.set_title(to_latin1(doc.title))
    pdf.set_author("skillatlas sample corpus")
    pdf.set_creator("scripts/build_sample_corpus.py")
    pdf.set_producer("fpdf2")
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.set_margins(20, 18, 20)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.multi_cell(0, 8, to_latin1(doc.title), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("Helvetica", "", 10)
    for line in header_lines(doc):
        pdf.multi_cell(0, 5, to_latin1(line), new_x="LMARGIN", new_y="NEXT")
    for kind, content in doc.blocks:
        if kind == "h":
            pdf.ln(3)
            pdf.set_font("Helvetica", "B", 12)
            pdf.multi_cell(0, 6, to_latin1(str(content)), new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("Helvetica", "", 10)
        elif kind == "ul":
            for item in content:
                pdf.set_x(pdf.l_margin + 4)
                pdf.multi_cell(0, 5, to_latin1(f"- {item}"), new_x="LMARGIN", new_y="NEXT")
        else:
            pdf.ln(1.5)
            pdf.multi_cell(0, 5, to_latin1(str(content)), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _normalise_zip(data: bytes) -> bytes:
    """Rewrite a zip with fixed timestamps and sorted-stable order so DOCX output is reproducible."""
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            zi = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            dst.writestr(zi, src.read(info.filename))
    return buf.getvalue()


def render_docx(doc: Doc) -> bytes:
    import docx

    d = docx.Document()
    props = d.core_properties
    props.title = doc.title[:200]
    props.author = "skillatlas sample corpus"
    props.last_modified_by = "scripts/build_sample_corpus.py"
    props.created = FIXED_TIME.replace(tzinfo=None)
    props.modified = FIXED_TIME.replace(tzinfo=None)
    props.revision = 1
    d.add_heading(doc.title, level=1)
    for line in header_lines(doc):
        d.add_paragraph(line)
    for kind, content in doc.blocks:
        if kind == "h":
            d.add_heading(str(content), level=2)
        elif kind == "ul":
            for item in content:
                d.add_paragraph(item, style="List Bullet")
        else:
            d.add_paragraph(str(content))
    buf = io.BytesIO()
    d.save(buf)
    return _normalise_zip(buf.getvalue())


RENDERERS = {"pdf": render_pdf, "docx": render_docx, "html": render_html, "txt": render_txt}


# --------------------------------------------------------------------------------------------- main
def write_docs(docs: list[tuple[str, Doc]], folder: Path, cycle: list[str], seed: int) -> dict[str, int]:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    order = list(range(len(docs)))
    random.Random(seed).shuffle(order)  # decouple the format from the source/field order
    counts: dict[str, int] = {}
    for pos, i in enumerate(order):
        stem, doc = docs[i]
        ext = cycle[pos % len(cycle)]
        (folder / f"{stem}.{ext}").write_bytes(RENDERERS[ext](doc))
        counts[ext] = counts.get(ext, 0) + 1
    return counts


def write_bad(folder: Path) -> None:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    rng = random.Random(20261120)
    (folder / "empty.txt").write_bytes(b"")
    (folder / "corrupt.pdf").write_bytes(b"%PDF-1.7\n" + bytes(rng.randrange(256) for _ in range(4096)))
    (folder / "binary.txt").write_bytes(
        b"\x7fELF\x02\x01\x01\x00" + bytes(rng.randrange(256) for _ in range(2048)) + b"\x00" * 64
    )
    (folder / "README.md").write_text(
        "Deliberately broken inputs for error-handling tests (NOT part of the sample inbox):\n\n"
        "- `empty.txt`: 0 bytes\n"
        "- `corrupt.pdf`: `%PDF-1.7` header followed by random bytes\n"
        "- `binary.txt`: binary (ELF-like) content with a .txt extension\n",
        encoding="utf-8",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("raw", nargs="?", type=Path, default=DEFAULT_RAW, help="raw data folder")
    parser.add_argument("--inbox", type=Path, default=INBOX)
    parser.add_argument("--bad", type=Path, default=BAD_DIR)
    args = parser.parse_args(argv)
    if not (args.raw / "job_postings_skillspan").is_dir():
        parser.error(f"{args.raw / 'job_postings_skillspan'} not found; pass the raw data folder")
    jobs = posting_docs(args.raw)
    courses = course_docs()
    job_counts = write_docs(jobs, args.inbox / "jobs", JOB_CYCLE, seed=1)
    course_counts = write_docs(courses, args.inbox / "courses", COURSE_CYCLE, seed=2)
    write_bad(args.bad)
    print(f"jobs: {len(jobs)} {job_counts}", file=sys.stderr)
    print(f"courses: {len(courses)} {course_counts}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
