from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pytest

from skillatlas.reference.soc_map import SOC_MAP_COLUMNS, build_soc_skill_map, coverage_report, extract_onet_text_skills


def _inputs() -> dict[str, pd.DataFrame]:
    occupations = pd.DataFrame(
        {
            "soc_code": ["11-1011.00", "11-1011.03", "15-1252.00", "55-1011.00"],
            "title": ["Chief Executives", "Chief Sustainability Officers", "Software Developers", "Air Crew"],
            "description": ["Plan strategy.", "Sustainability.", "Write software in Python.", "Fly."],
            "job_zone": pd.array([5, 5, 4, pd.NA], dtype="Int64"),
        }
    )
    taxonomy = pd.DataFrame(
        {
            "skill_id": ["onet:excel", "onet:python", "esco:py", "esco:lead", "esco:debug", "esco:sql"],
            "label": ["Microsoft Excel", "Python", "Python (computer programming)", "lead a team",
                      "debug software", "SQL"],
            "source": ["onet_tech", "onet_tech", "esco", "esco", "esco", "esco"],
            "aliases": [["Microsoft Excel", "Excel"], ["Python"], ["Python"], ["lead a team"],
                        ["debug software"], ["SQL"]],
            "esco_uri": [None, None, "u:py", "u:lead", "u:debug", "u:sql"],
        }
    )
    tech = pd.DataFrame(
        {
            "soc_code": ["11-1011.00", "15-1252.00", "15-1252.00", "15-1252.00"],
            # "EXCEL" matches an alias; "Unknown Tool" matches nothing and is dropped
            "example": ["EXCEL", "Python", "Microsoft Excel", "Unknown Tool"],
            "commodity_code": [1, 2, 1, 3],
            "commodity_title": ["x", "y", "x", "z"],
            "hot_technology": [True, True, False, False],
            "in_demand": [True, False, False, False],
        }
    )
    crosswalk = pd.DataFrame(
        {
            "esco_occupation_uri": ["o:dev", "o:dev2", "o:ceo"],
            "soc_code": ["15-1252.00", "15-1252.00", "11-1011.00"],
            "confidence": [2.0, 1.0, 0.5],
        }
    )
    esco_occ_skills = pd.DataFrame(
        {
            "esco_occupation_uri": ["o:dev", "o:dev", "o:dev2", "o:ceo", "o:ceo"],
            "esco_uri": ["u:py", "u:debug", "u:debug", "u:lead", "u:unknown"],
            "relation_type": ["essential", "optional", "essential", "essential", "essential"],
        }
    )
    return {"occupations": occupations, "tech_skills": tech, "crosswalk": crosswalk,
            "esco_occ_skills": esco_occ_skills, "taxonomy": taxonomy}


def test_weights_sources_and_flags() -> None:
    inp = _inputs()
    extracted = pd.DataFrame({"soc_code": ["15-1252.00", "15-1252.00", "99-0000.00"],
                              "skill_id": ["esco:sql", "onet:python", "esco:sql"],
                              "confidence": [0.5, 1.0, 1.0]})
    m = build_soc_skill_map(**inp, extracted=extracted)
    assert list(m.columns) == SOC_MAP_COLUMNS
    assert not m.duplicated(["soc_code", "skill_id"]).any()
    assert "99-0000.00" not in set(m["soc_code"])  # not an O*NET occupation
    by = m.set_index(["soc_code", "skill_id"])
    # O*NET tech: 0.6 base + 0.2 hot + 0.2 in demand
    assert by.loc[("11-1011.00", "onet:excel"), "weight"] == pytest.approx(1.0)
    assert bool(by.loc[("11-1011.00", "onet:excel"), "hot_technology"])
    assert by.loc[("15-1252.00", "onet:python"), "weight"] == pytest.approx(0.8)
    assert by.loc[("15-1252.00", "onet:python"), "sources"] == "onet_tech; onet_text"  # text gave 0.8 too
    assert by.loc[("15-1252.00", "onet:python"), "source"] == "onet_tech"  # tie -> table order
    assert by.loc[("15-1252.00", "onet:excel"), "weight"] == pytest.approx(0.6)
    # ESCO: essential 0.9 x conf(2 -> 1.0); optional 0.5 x 1.0; essential via conf 1 -> 0.9 x 0.5
    assert by.loc[("15-1252.00", "esco:py"), "weight"] == pytest.approx(0.9)
    assert by.loc[("15-1252.00", "esco:debug"), "weight"] == pytest.approx(0.5)
    assert by.loc[("15-1252.00", "esco:debug"), "source"] == "esco_optional"
    assert by.loc[("15-1252.00", "esco:debug"), "sources"] == "esco_essential; esco_optional"
    assert by.loc[("11-1011.00", "esco:lead"), "weight"] == pytest.approx(0.9 * 0.25)
    # extracted text: 0.8 x confidence
    assert by.loc[("15-1252.00", "esco:sql"), "weight"] == pytest.approx(0.4)
    assert by.loc[("15-1252.00", "esco:sql"), "source"] == "onet_text"
    assert by.loc[("11-1011.00", "onet:excel"), "label"] == "Microsoft Excel"
    assert m["weight"].between(0, 1, inclusive="right").all()
    # sorted by soc, weight desc
    grp = m[m["soc_code"] == "15-1252.00"]["weight"]
    assert grp.is_monotonic_decreasing


def test_family_fallback_and_coverage() -> None:
    inp = _inputs()
    m = build_soc_skill_map(**inp)
    fb = m[m["soc_code"] == "11-1011.03"]
    assert set(fb["skill_id"]) == {"onet:excel", "esco:lead"}  # borrowed from 11-1011.00
    assert (fb["source"] == "soc_family").all()
    assert fb.set_index("skill_id").loc["onet:excel", "weight"] == pytest.approx(0.5)
    rep = coverage_report(m, inp["occupations"])
    assert rep["soc_codes"] == 4 and rep["covered"] == 3 and rep["covered_without_fallback"] == 2
    assert rep["uncovered"] == 1 and rep["uncovered_codes"] == ["55-1011.00"]
    none = build_soc_skill_map(**inp, family_fallback=False)
    assert "11-1011.03" not in set(none["soc_code"])


def test_extracted_text_covers_codes_without_structured_data() -> None:
    inp = _inputs()
    extracted = pd.DataFrame({"soc_code": ["55-1011.00"], "skill_id": ["esco:lead"], "confidence": [0.9]})
    m = build_soc_skill_map(**inp, extracted=extracted)
    assert coverage_report(m, inp["occupations"])["uncovered"] == 0


@dataclass(frozen=True)
class _M:
    skill_id: str
    confidence: float


class _FakeExtractor:
    def __init__(self) -> None:
        self.seen: list[str] = []

    def extract(self, text: str) -> list[_M]:
        self.seen.append(text)
        return [_M("esco:py", 0.9)] if "python" in text.casefold() else []


def test_extract_onet_text_skills_glue() -> None:
    inp = _inputs()
    tasks = pd.DataFrame({"soc_code": ["55-1011.00", "55-1011.00"], "task_id": [1, 2],
                          "task": ["Program flight computers in Python.", "Fly."],
                          "task_type": ["Core", "Core"]})
    ex = _FakeExtractor()
    out = extract_onet_text_skills(inp["occupations"], tasks, ex)
    assert list(out.columns) == ["soc_code", "skill_id", "confidence"]
    assert set(out["soc_code"]) == {"15-1252.00", "55-1011.00"}
    assert len(ex.seen) == 4
    assert any("Program flight computers" in t for t in ex.seen)


def test_fallback_walks_up_to_the_major_group() -> None:
    inp = _inputs()
    extra = pd.DataFrame({"soc_code": ["15-2051.00"], "title": ["Data Scientists"], "description": [""],
                          "job_zone": pd.array([5], dtype="Int64")})
    inp["occupations"] = pd.concat([inp["occupations"], extra], ignore_index=True)
    m = build_soc_skill_map(**inp, family_max_skills=2)
    ds = m[m["soc_code"] == "15-2051.00"]
    # no detailed/broad/minor sibling: the top-2 skills of major group 15 (only 15-1252.00 has data)
    assert ds["skill_id"].tolist() == ["esco:py", "onet:python"]
    assert ds["weight"].tolist() == pytest.approx([0.45, 0.4])
    assert (ds["sources"] == "soc_family").all()
