"""Template regions of job postings: labels, headings, placeholders, metadata and boilerplate yield no skills."""

from __future__ import annotations

import pytest

from skillatlas.extract.offline import get_offline_extractor
from skillatlas.extract.structure import TemplateMask, template_regions

POSTING = (
    "Senior QA Engineer <ORGANIZATION>\n"
    "Date posted: 2021-07-14\n"
    "Job type:\n"
    "Full-time\n"
    "Industry:\n"
    "Financial Services\n"
    "Company type: Private Technologies python selenium\n"
    "Job description\n"
    "Design and implement end-to-end tests in Java and Python.\n"
    "Auto req ID: 1393BR Official Title: Product Manager Location: <LOCATION> Salary: 40k\n"
    "What we offer\n"
    "Pension, health insurance and a warehouse of snacks.\n"
    "Requirements\n"
    "Good understanding of risk assessment.\n"
    "We are an equal opportunity employer regardless of race or gender.\n"
)


def _masked(text: str) -> TemplateMask:
    return TemplateMask(template_regions(text))


def _find(text: str, part: str) -> tuple[int, int]:
    i = text.index(part)
    return i, i + len(part)


def test_template_parts_are_masked() -> None:
    mask = _masked(POSTING)
    for part in ["<ORGANIZATION>", "Date posted: 2021-07-14", "Full-time", "Job description", "Salary: 40k",
                 "Official Title: Product Manager", "What we offer", "Pension, health insurance",
                 "Company type: Private", "equal opportunity employer"]:
        assert mask.inside(*_find(POSTING, part)), part


def test_content_is_kept() -> None:
    mask = _masked(POSTING)
    for part in ["Design and implement end-to-end tests in Java and Python.", "Financial Services",
                 "python selenium", "Good understanding of risk assessment.", "Senior QA Engineer"]:
        assert not mask.covers(*_find(POSTING, part)), part


def test_mask_gaps() -> None:
    mask = TemplateMask([])
    assert mask.gaps(3, 9) == [(3, 9)]
    from skillatlas.extract.structure import Region

    mask = TemplateMask([Region(2, 4, "label"), Region(6, 8, "label"), Region(7, 12, "heading")])
    assert mask.gaps(0, 10) == [(0, 2), (4, 6)]
    assert mask.covers(3, 5) and not mask.covers(4, 6) and mask.inside(6, 12)


@pytest.fixture(scope="module")
def phrase_only():  # type: ignore[no-untyped-def]
    return get_offline_extractor(semantic=False)


def test_extractor_finds_no_skill_in_template(phrase_only) -> None:  # type: ignore[no-untyped-def]
    mentions = phrase_only.extract(POSTING)
    mask = _masked(POSTING)
    assert mentions, "content skills are still found"
    for m in mentions:
        assert not mask.covers(m.start, m.end), m
        for a, b in m.occurrences:
            assert not mask.covers(a, b), (m.label, POSTING[a:b])
    labels = {m.label for m in mentions}
    assert any("Java" in lab for lab in labels) and any("risk" in lab for lab in labels)


def test_every_occurrence_is_listed(phrase_only) -> None:  # type: ignore[no-untyped-def]
    text = "Experience with Python. Python is a must. We test in Python daily."
    (m,) = [m for m in phrase_only.extract(text) if m.label.startswith("Python")]
    assert [text[a:b] for a, b in m.occurrences] == ["Python"] * 3
    assert (m.start, m.end) in m.occurrences


def test_skills_per_evidence_cap(phrase_only) -> None:  # type: ignore[no-untyped-def]
    text = "Knowledge of risk assessment, recruitment and project management."
    mentions = phrase_only.extract(text)
    per_span: dict[tuple[int, int], int] = {}
    for m in mentions:
        for span in m.occurrences:
            per_span[span] = per_span.get(span, 0) + 1
    assert per_span and max(per_span.values()) <= phrase_only.skills_per_evidence
