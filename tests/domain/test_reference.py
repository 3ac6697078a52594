"""Shipped reference data (data/reference) loads with the contracted shape."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from skillatlas import paths
from skillatlas.reference import sources as reference


def test_onet_occupations() -> None:
    occ = reference.load_onet_occupations()
    assert list(occ.columns) == ["soc_code", "title", "description", "job_zone"]
    assert len(occ) == 1016
    assert occ["soc_code"].is_unique
    assert occ["soc_code"].str.fullmatch(r"\d{2}-\d{4}\.\d{2}").all()
    assert str(occ["job_zone"].dtype) == "Int64"
    assert occ["job_zone"].dropna().between(1, 5).all()
    assert occ["job_zone"].notna().sum() >= 900


def test_esco_skills() -> None:
    skills = reference.load_esco_skills()
    assert list(skills.columns) == [
        "esco_uri", "preferred_label", "alt_labels", "skill_type", "reuse_level", "description"
    ]
    assert len(skills) == 13896
    assert skills["esco_uri"].is_unique
    assert all(isinstance(v, list) for v in skills["alt_labels"])
    assert all(isinstance(x, str) for v in skills["alt_labels"].head(500) for x in v)
    assert (skills["alt_labels"].map(len) > 0).mean() > 0.9
    assert (skills["description"].str.len() > 20).mean() > 0.95


def test_esco_occupations_and_relations() -> None:
    occ = reference.load_esco_occupations()
    assert len(occ) == 3007
    rel = reference.load_esco_occupation_skills()
    assert list(rel.columns) == ["esco_occupation_uri", "esco_uri", "relation_type"]
    assert len(rel) > 100_000
    assert set(rel["relation_type"]) == {"essential", "optional"}
    assert rel["esco_occupation_uri"].isin(set(occ["esco_occupation_uri"])).mean() > 0.99
    skill_uris = set(reference.load_esco_skills()["esco_uri"])
    assert rel["esco_uri"].isin(skill_uris).mean() > 0.99


def test_crosswalk_codes_exist_in_onet() -> None:
    cw = reference.load_esco_onet_crosswalk()
    codes = set(reference.load_onet_occupations()["soc_code"])
    assert len(cw) > 1000
    assert cw["soc_code"].isin(codes).all()
    assert cw["confidence"].dtype == "float64"
    assert cw["remapped"].dtype == bool
    assert cw["remapped"].any()
    remapped = cw[cw["remapped"]]
    assert (remapped["soc_code"].str[:7] == remapped["original_soc_code"].str[:7]).all()


def test_technology_skills() -> None:
    tech = reference.load_onet_technology_skills()
    assert list(tech.columns) == [
        "soc_code", "example", "commodity_code", "commodity_title", "hot_technology", "in_demand"
    ]
    assert len(tech) > 30_000
    assert tech["hot_technology"].dtype == bool
    assert tech["in_demand"].dtype == bool
    assert tech["hot_technology"].sum() == 11616
    assert (tech["example"] == "Microsoft Excel").any()


def test_alternate_titles_and_tasks() -> None:
    alt = reference.load_onet_alternate_titles()
    assert list(alt.columns) == ["soc_code", "alternate_title"]
    assert len(alt) > 50_000
    tasks = reference.load_onet_tasks()
    assert list(tasks.columns) == ["soc_code", "task_id", "task", "task_type"]
    assert len(tasks) == 18796
    assert set(tasks["task_type"].dropna()) <= {"Core", "Supplemental"}


def test_manifest_matches_files() -> None:
    manifest = json.loads((paths.REFERENCE_DIR / "MANIFEST.json").read_text())
    files = {f["file"]: f for f in manifest["files"]}
    assert len(files) == 8
    for name, entry in files.items():
        path = paths.REFERENCE_DIR / name
        assert path.is_file()
        assert entry["rows"] == len(pd.read_parquet(path))
        assert entry["licence"] and entry["source"]
    assert sum((paths.REFERENCE_DIR / n).stat().st_size for n in files) < 15_000_000


def test_missing_file_message(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(paths, "REFERENCE_DIR", tmp_path)
    reference.clear_cache()
    try:
        with pytest.raises(FileNotFoundError, match="build_reference_data.py"):
            reference.load_onet_tasks()
    finally:
        monkeypatch.undo()
        reference.clear_cache()
