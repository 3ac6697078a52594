"""Document structure of job postings and syllabi: the regions that are template, not content.

Job boards and de-identified corpora wrap the text people wrote in a template: field labels ("Salary:",
"Job type:", "Industry:"), headings ("Job description", "Responsibilities"), placeholders ("<ORGANIZATION>",
"ORGANIZATION"), metadata values ("Full-time", "501-1k people"), and boilerplate sections (benefits,
equal-opportunity statements, the company blurb). Skills found there are junk: "Job description" is not the
skill *write job descriptions*, "Salary:" is not *determine salaries*. :func:`template_regions` returns those
regions so the extractor can leave them out (and not spend time embedding them).

What counts as template was read off the SkillSpan **train** split (gold spans in each region type: label,
heading, placeholder, metadata value, benefits/company/contact section - all 0 of 5,190), never off dev.
Values of content fields ("Industry:", "Technologies", "Skills:") are kept: annotators mark skills there.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Region", "TemplateMask", "template_regions"]


@dataclass(frozen=True)
class Region:
    start: int
    end: int
    kind: str  # "placeholder" | "label" | "heading" | "metadata" | "section" | "sentence"


def _norm(s: str) -> str:
    s = re.sub(r"<[A-Za-z_]+>|\b(?:ORGANI[SZ]ATION|COMPANY)\b", "<org>", s)
    return " ".join(re.sub(r"[^\w<>&+#/ ]+", " ", s.casefold()).split())


# field labels whose value is template too (the value is metadata, never a skill)
METADATA_FIELDS = frozenset(_norm(x) for x in """
date posted|posted|posted on|likes|dislikes|love|job type|employment type|contract type|type of contract|contract
|experience level|seniority|seniority level|role|job role|company size|company type|location|location options
|locations|job location|work location|city|country|country / countries|countries|region|address|office
|salary|salary range|compensation|pay|pay range|wage|wages|rate|remuneration|start date|starting date|closing date
|application deadline|deadline|apply by|apply before|job id|job ref|job reference|reference|ref|req id
|auto req id|requisition id|requisition number|vacancy id|job number|posting id|official title|job title|title
|position|position title|job area|job category|category|department|division|business unit|function
|job function|team|hours|working hours|working time|shift|schedule|duration|travel|remote|visa sponsor
|website|web|email|e-mail|phone|telephone|contact|contact person|contact details|recruiter|hiring manager
|organization|organisation|company|company name|employer|<org>|job benefits|benefits|perks|job level|grade
|level|career level|education level|number of positions|openings|vacancies|job code|source|tags
""".replace("\n", "").split("|"))
# labels whose value is content (kept) - listed so the label itself is recognised
CONTENT_FIELDS = frozenset(_norm(x) for x in """
industry|industries|technologies|technology|tech stack|stack|skills|required skills|key skills|skills & requirements
|job description|description|summary|overview|responsibilities|requirements|qualifications|key responsibilities
|basic qualifications|preferred qualifications|minimum qualifications|duties|tasks|profile|your profile|your role
|the role|about the role|about the job|about you|what you will do|what you'll do|what we are looking for
|what we're looking for|who you are|we expect|you have|you are|your tasks|main tasks|job summary|role description
|position summary|essential functions|experience|education|languages|nice to have|bonus points|desired skills
|preferred skills|must have|tools|software|certifications|key requirements|minimum requirements
""".replace("\n", "").split("|"))
# headings that open a section with no skills in it (benefits, the company, how to apply, legal)
BOILERPLATE_HEADINGS = frozenset(_norm(x) for x in """
job benefits|benefits|perks|perks and benefits|benefits and perks|what we offer|we offer|our offer|what's in it for you
|what we can offer you|what we can offer|why join us|why us|why work for us|why <org>|life at <org>|our benefits
|company description|about us|about <org>|about the company|who we are|our company|the company|our story|our mission
|our culture|our values|contact|contact us|contact information|how to apply|application|applications|to apply
|equal opportunity|equal opportunity employer|eeo statement|diversity and inclusion|diversity & inclusion
|disclaimer|privacy|privacy notice|legal|additional information|other information|salary and benefits
|compensation and benefits|what you get|what you'll get|rewards|reward|package|the package|our package
""".replace("\n", "").split("|"))
KNOWN_HEADINGS = METADATA_FIELDS | CONTENT_FIELDS | BOILERPLATE_HEADINGS

PLACEHOLDER_WORDS = ("ORGANIZATION|ORGANISATION|ADDRESS|LOCATION|CONTACT|DESCRIPTION|NAME|PERSON|EMAIL|PHONE|URL"
                     "|DATE|COMPANY|PROJECT|PRODUCT|CITY|COUNTRY")
_PLACEHOLDER = re.compile(rf"<[A-Za-z_]+>|\b(?:{PLACEHOLDER_WORDS})\b")
_CONTENT_CUE = re.compile(r"\b(?:Technologies|Job description|Skills|Requirements|Responsibilities|Industry)\b")
_COLON = re.compile(r"\s*:(?=\s|$)")
_WORD = re.compile(r"\S+")
# sentences that are boilerplate wherever they stand
_BOILERPLATE_SENTENCE = re.compile(
    r"equal (?:employment )?opportunit|affirmative action|regardless of (?:their )?(?:race|gender|age|sex|religion)"
    r"|without regard to|sexual orientation|gender identity|protected veteran|veteran status|national origin"
    r"|reasonable accommodation|background check|e-verify|we (?:can )?offer(?!\s*:)|we provide (?:you|our)"
    r"|you will (?:get|receive)\b|competitive (?:salary|compensation|pay|package|benefits)|pension"
    r"|health (?:insurance|care|plan)|dental|paid (?:time off|vacation|holiday|leave|parental)|holiday allowance"
    r"|annual leave|stock options?|share options?|401\(?k|tuition|gym|free (?:lunch|fruit|coffee|snacks|drinks)"
    r"|apply (?:now|today|online|via|through)|send (?:us )?your (?:cv|application|resume)|click (?:on )?apply"
    r"|for more information|do not hesitate|recruitment agenc|we look forward to (?:hearing|receiving)"
    r"|^<org>(?: <org>)* (?:(?:is|are|was) (?:a|an|the|one of)|provides|offers|helps|operates)\b"
    r"|^we are (?:a|an|the|one of)\b|^(?:founded|established) in\b",
    re.IGNORECASE)


class TemplateMask:
    """Sorted, merged template regions; ``covers(a, b)`` is True when [a, b) overlaps one."""

    def __init__(self, regions: Iterable[Region]) -> None:
        spans = sorted((r.start, r.end) for r in regions if r.end > r.start)
        merged: list[list[int]] = []
        for s, e in spans:
            if merged and s <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], e)
            else:
                merged.append([s, e])
        self.starts = [s for s, _ in merged]
        self.ends = [e for _, e in merged]

    def covers(self, a: int, b: int) -> bool:
        i = bisect_right(self.starts, b - 1) - 1
        return i >= 0 and self.ends[i] > a

    def inside(self, a: int, b: int) -> bool:
        """Is [a, b) entirely template?"""
        i = bisect_right(self.starts, a) - 1
        return i >= 0 and self.ends[i] >= b

    def gaps(self, a: int, b: int) -> list[tuple[int, int]]:
        """The parts of [a, b) outside every region."""
        out: list[tuple[int, int]] = []
        pos = a
        i = max(bisect_right(self.starts, a) - 1, 0)
        while i < len(self.starts) and self.starts[i] < b:
            if self.ends[i] > pos:
                if self.starts[i] > pos:
                    out.append((pos, self.starts[i]))
                pos = max(pos, self.ends[i])
            i += 1
        if pos < b:
            out.append((pos, b))
        return out

    def __len__(self) -> int:
        return len(self.starts)


def _lines(text: str) -> list[tuple[int, int]]:
    out, pos = [], 0
    for line in text.split("\n"):
        out.append((pos, pos + len(line)))
        pos += len(line) + 1
    return out


def _is_heading_line(line: str) -> bool:
    """A short line that reads as a heading: known heading text, or a few words ending in ':'."""
    n = _norm(line)
    if not n:
        return False
    if n in KNOWN_HEADINGS:
        return True
    words = line.split()
    return len(words) <= 4 and line.rstrip().endswith(":")


def _only_placeholders(line: str) -> bool:
    return bool(line.strip()) and not _PLACEHOLDER.sub(" ", line).strip(" -–,.|/&")


def template_regions(text: str) -> list[Region]:
    """Template regions of ``text`` (absolute character offsets), in text order of their kind's pass."""
    out: list[Region] = []
    lines = _lines(text)
    in_boilerplate = False
    value_next = False  # the previous line was a metadata label alone ("Job type:") -> this line is its value
    for s, e in lines:
        line = text[s:e]
        stripped = line.strip()
        if not stripped:
            continue
        for m in _PLACEHOLDER.finditer(line):
            out.append(Region(s + m.start(), s + m.end(), "placeholder"))
        heading = _is_heading_line(stripped)
        label_key = _norm(stripped.rstrip(":"))
        if heading and not line.rstrip().endswith(":") and label_key not in BOILERPLATE_HEADINGS and \
                len(stripped.split()) > 4:
            heading = False
        if heading:
            out.append(Region(s, e, "heading"))
            in_boilerplate = label_key in BOILERPLATE_HEADINGS
            value_next = label_key in METADATA_FIELDS
            continue
        if value_next:
            value_next = False
            if len(stripped.split()) <= 8:
                out.append(Region(s, e, "metadata"))
                continue
        if in_boilerplate:
            out.append(Region(s, e, "section"))
            continue
        # inline field labels: "Salary: 40k", "Auto req ID: 1393BR Official Title: Product Manager"
        labels = _field_labels(line)
        boiler_from = None
        for k, (a, b, key) in enumerate(labels):
            out.append(Region(s + a, s + b, "label"))
            if key in BOILERPLATE_HEADINGS and key not in METADATA_FIELDS:
                boiler_from = b  # "... What we offer: ..." inline: the rest of the line is that section
                break
            if key in METADATA_FIELDS:
                value_end = labels[k + 1][0] if k + 1 < len(labels) else len(line)
                # a metadata value is short; a long run after it is the text the template wraps
                value = line[b:value_end]
                inner = _CONTENT_CUE.search(value)  # "Company type: Private Technologies python"
                if inner:
                    value_end = b + inner.start()
                    value = value[:inner.start()]
                if len(value.split()) > 8:
                    value_end = b + _first_sentence_end(value)
                out.append(Region(s + b, s + value_end, "metadata"))
        if boiler_from is not None:
            out.append(Region(s + boiler_from, e, "section"))
            line = line[:boiler_from]
        if _only_placeholders(stripped):
            out.append(Region(s, e, "placeholder"))
            continue
        for a, b in _sentences(line):
            if len(line[a:b].split()) > 40:  # an unsplit run of sentences: too coarse to drop whole
                continue
            if _BOILERPLATE_SENTENCE.search(_PLACEHOLDER.sub("<org>", line[a:b]).strip()):
                out.append(Region(s + a, s + b, "sentence"))
    return out


def _field_labels(line: str) -> list[tuple[int, int, str]]:
    """(start, end incl. colon, normalised label) of known field labels in a line: for each "...:" the
    longest run of up to 4 preceding words that is a known label ("Job type: Full-time Industry: Media")."""
    words = [(m.start(), m.end()) for m in _WORD.finditer(line)]
    out: list[tuple[int, int, str]] = []
    for m in _COLON.finditer(line):
        end_word = [i for i, (a, b) in enumerate(words) if a < m.start() + 1 and b >= m.start()]
        if not end_word:
            continue
        j = end_word[-1]
        floor = out[-1][1] if out else 0
        for n in range(min(4, j + 1), 0, -1):
            a = words[j - n + 1][0]
            if a < floor:
                continue
            key = _norm(line[a:m.start()])
            if key in KNOWN_HEADINGS:
                out.append((a, m.end(), key))
                break
    return out


def _first_sentence_end(value: str) -> int:
    """Length of a metadata value's own words: up to the first sentence end or 4 words."""
    m = re.search(r"[.!?](?:\s|$)", value)
    words = list(re.finditer(r"\S+", value))
    cut = words[min(3, len(words) - 1)].end() if words else 0
    return min(m.end() if m else len(value), cut)


def _sentences(line: str) -> list[tuple[int, int]]:
    out, start = [], 0
    for m in re.finditer(r"[.!?](?:\s+|$)", line):
        out.append((start, m.end()))
        start = m.end()
    if start < len(line):
        out.append((start, len(line)))
    return out
