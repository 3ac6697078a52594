"""Taxonomy: stable unique ids, aliases, same_as mappings."""

from __future__ import annotations

import pandas as pd
import pytest

from skillatlas.reference.taxonomy import build_taxonomy, load_taxonomy, onet_slug, skill_id_for_esco_uri


@pytest.fixture(scope="module")
def taxonomy() -> pd.DataFrame:
    return load_taxonomy()


def _by_label(tax: pd.DataFrame, label: str, source: str) -> pd.Series:
    rows = tax[(tax["label"] == label) & (tax["source"] == source)]
    assert len(rows) == 1, (label, source, len(rows))
    return rows.iloc[0]


def test_ids_unique_and_prefixed(taxonomy: pd.DataFrame) -> None:
    assert taxonomy["skill_id"].is_unique
    esco = taxonomy[taxonomy["source"] == "esco"]
    onet = taxonomy[taxonomy["source"] == "onet_tech"]
    assert esco["skill_id"].str.startswith("esco:").all()
    assert onet["skill_id"].str.startswith("onet:").all()
    assert len(esco) > 13_000
    assert 8_700 <= len(onet) <= 8_775  # 8,775 distinct examples, a few differ only in case
    assert set(taxonomy.columns) >= {"skill_id", "label", "source", "aliases", "description", "esco_uri",
                                     "same_as"}


def test_ids_are_stable_functions_of_the_data(taxonomy: pd.DataFrame) -> None:
    uri = "http://data.europa.eu/esco/skill/ccd0a1d9-afda-43d9-b901-96344886e14d"
    assert skill_id_for_esco_uri(uri) == "esco:ccd0a1d9-afda-43d9-b901-96344886e14d"
    assert onet_slug("C++") == "c-plus-plus"
    assert onet_slug("C#") == "c-sharp"
    assert onet_slug("Microsoft Excel") == "microsoft-excel"
    assert _by_label(taxonomy, "Microsoft Excel", "onet_tech")["skill_id"] == "onet:microsoft-excel"
    # rebuilding from shuffled input gives the same ids for the same rows
    esco_in = pd.DataFrame({
        "esco_uri": ["http://data.europa.eu/esco/skill/b", "http://data.europa.eu/esco/skill/a"],
        "preferred_label": ["Python (computer programming)", "care for horses"],
        "alt_labels": [["Python"], []], "skill_type": ["knowledge", "skill/competence"],
        "reuse_level": ["sector-specific", "occupation-specific"], "description": ["", ""],
    })
    onet_in = pd.DataFrame({
        "soc_code": ["15-1252.00", "15-1251.00", "15-1252.00"],
        "example": ["Python", "Microsoft Excel", "python"],
        "commodity_code": ["1", "2", "1"],
        "commodity_title": ["Object oriented software", "Spreadsheet", "x"],
        "hot_technology": [True, True, False], "in_demand": [False, False, False],
    })
    a = build_taxonomy(esco_in, onet_in)
    b = build_taxonomy(esco_in.iloc[::-1].reset_index(drop=True), onet_in.iloc[::-1].reset_index(drop=True))
    assert a["skill_id"].tolist() == b["skill_id"].tolist()
    assert sorted(a["skill_id"]) == ["esco:a", "esco:b", "onet:microsoft-excel", "onet:python"]


def test_aliases_include_label(taxonomy: pd.DataFrame) -> None:
    sample = taxonomy.sample(500, random_state=0)
    for label, aliases in zip(sample["label"], sample["aliases"], strict=True):
        assert aliases[0] == label
        assert len(set(aliases)) == len(aliases)
    py = _by_label(taxonomy, "Python (computer programming)", "esco")
    assert "Python" in py["aliases"]
    assert "Excel" in _by_label(taxonomy, "Microsoft Excel", "onet_tech")["aliases"]


def test_same_as_mappings(taxonomy: pd.DataFrame) -> None:
    label = dict(zip(taxonomy["skill_id"], taxonomy["label"], strict=True))
    source = dict(zip(taxonomy["skill_id"], taxonomy["source"], strict=True))
    expected = {
        "Python": "Python (computer programming)",
        "C++": "C++",
        "JavaScript": "JavaScript",
        "Oracle Java": "Java (computer programming)",
        "MySQL": "MySQL",
        "R": "R",
    }
    for onet_label, esco_label in expected.items():
        row = _by_label(taxonomy, onet_label, "onet_tech")
        assert row["same_as"] is not None, onet_label
        assert label[row["same_as"]] == esco_label
    mapped = taxonomy[taxonomy["same_as"].notna()]
    assert (mapped["source"] == "onet_tech").all()
    assert all(source[sa] == "esco" for sa in mapped["same_as"])
    # product categories are not synonyms of one product
    assert _by_label(taxonomy, "Bash", "onet_tech")["same_as"] is None
    assert _by_label(taxonomy, "SAND", "onet_tech")["same_as"] is None
    assert 40 <= len(mapped) <= 400
