"""SOC code -> skills map.

Three evidence routes, each mapped to a weight in ``(0, 1]``:

============== ===================================================================================
source          weight
============== ===================================================================================
onet_tech       ``TECH_BASE`` 0.6, +0.2 if O*NET flags it *Hot Technology*, +0.2 if *In Demand*
esco_essential  0.9 x crosswalk confidence (normalised to ``(0, 1]``, see below)
esco_optional   0.5 x crosswalk confidence
onet_text       0.8 x extractor confidence (skills found in the O*NET description and task statements)
soc_family      fallback only: 0.5 x the best weight the skill has in sibling SOC codes (same 6-digit
                SOC base, e.g. 15-1252.00 for 15-1252.01; else the same broad group 15-125x; else the
                same minor group 15-1xxx; else the major group 15-xxxx), the top ``family_max_skills``
                skills of the family
============== ===================================================================================

The crosswalk's ``confidence`` (Nesta: 0.5 / 1 / 2) is normalised by its maximum when that exceeds 1, so
``2 -> 1.0``, ``1 -> 0.5``, ``0.5 -> 0.25``. Several ESCO occupations may map to one SOC: each skill keeps
its best evidence.

One row per (soc_code, skill_id): ``weight`` = max over all evidence, ``source`` = the source that gave the
max (ties: the order of the table above), ``sources`` = every source that supports the pair,
``"; "``-joined in the table order; ``hot_technology`` / ``in_demand`` = any O*NET flag on the pair.

O*NET technology examples are matched to taxonomy skills (``source == "onet_tech"``) by case-insensitive
label / alias; ESCO skills by ``esco_uri``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

import numpy as np
import pandas as pd

__all__ = [
    "SOC_MAP_COLUMNS",
    "SOURCE_ORDER",
    "build_soc_skill_map",
    "coverage_report",
    "extract_onet_text_skills",
]

SOC_MAP_COLUMNS = [
    "soc_code",
    "skill_id",
    "label",
    "weight",
    "source",
    "sources",
    "hot_technology",
    "in_demand",
]
SOURCE_ORDER = ["onet_tech", "esco_essential", "esco_optional", "onet_text", "soc_family"]

TECH_BASE = 0.6
TECH_HOT_BONUS = 0.2
TECH_IN_DEMAND_BONUS = 0.2
ESCO_ESSENTIAL = 0.9
ESCO_OPTIONAL = 0.5
ONET_TEXT = 0.8
FAMILY_FACTOR = 0.5


def _key(s: pd.Series) -> pd.Series:
    return s.astype(str).str.casefold().str.strip().str.replace(r"\s+", " ", regex=True)


def _onet_label_index(taxonomy: pd.DataFrame) -> pd.Series:
    """casefolded label/alias -> skill_id for O*NET technology skills (labels win over aliases)."""
    tech = taxonomy[taxonomy["source"] == "onet_tech"]
    labels = pd.DataFrame({"key": _key(tech["label"]), "skill_id": tech["skill_id"], "prio": 0})
    parts = [labels]
    if "aliases" in tech.columns:
        al = tech[["skill_id", "aliases"]].explode("aliases").dropna(subset=["aliases"])
        parts.append(pd.DataFrame({"key": _key(al["aliases"]), "skill_id": al["skill_id"], "prio": 1}))
    both = pd.concat(parts, ignore_index=True).sort_values(["prio", "skill_id"], kind="stable")
    both = both.drop_duplicates("key")
    return both.set_index("key")["skill_id"]


def _tech_rows(tech_skills: pd.DataFrame, taxonomy: pd.DataFrame) -> pd.DataFrame:
    idx = _onet_label_index(taxonomy)
    t = tech_skills[["soc_code", "example", "hot_technology", "in_demand"]].copy()
    t["skill_id"] = _key(t["example"]).map(idx)
    t = t.dropna(subset=["skill_id"])
    hot = t["hot_technology"].fillna(False).astype(bool)
    dem = t["in_demand"].fillna(False).astype(bool)
    return pd.DataFrame(
        {
            "soc_code": t["soc_code"].astype(str),
            "skill_id": t["skill_id"].astype(str),
            "weight": TECH_BASE + TECH_HOT_BONUS * hot + TECH_IN_DEMAND_BONUS * dem,
            "source": "onet_tech",
            "hot_technology": hot,
            "in_demand": dem,
        }
    )


def _esco_rows(
    crosswalk: pd.DataFrame, esco_occ_skills: pd.DataFrame, taxonomy: pd.DataFrame
) -> pd.DataFrame:
    cw = crosswalk[["esco_occupation_uri", "soc_code", "confidence"]].dropna(subset=["soc_code"]).copy()
    conf = pd.to_numeric(cw["confidence"], errors="coerce").fillna(0.0)
    scale = max(1.0, float(conf.max()) if len(conf) else 1.0)
    cw["conf"] = (conf / scale).clip(0.0, 1.0)
    cw = cw[cw["conf"] > 0]
    esco = taxonomy[taxonomy["source"] == "esco"][["skill_id", "esco_uri"]].dropna(subset=["esco_uri"])
    rel = esco_occ_skills[["esco_occupation_uri", "esco_uri", "relation_type"]].merge(esco, on="esco_uri")
    m = rel.merge(cw, on="esco_occupation_uri")
    essential = m["relation_type"].astype(str).str.casefold().eq("essential")
    base = np.where(essential, ESCO_ESSENTIAL, ESCO_OPTIONAL)
    return pd.DataFrame(
        {
            "soc_code": m["soc_code"].astype(str),
            "skill_id": m["skill_id"].astype(str),
            "weight": base * m["conf"].to_numpy(np.float64),
            "source": np.where(essential, "esco_essential", "esco_optional"),
            "hot_technology": False,
            "in_demand": False,
        }
    )


def _text_rows(extracted: pd.DataFrame) -> pd.DataFrame:
    conf = pd.to_numeric(extracted["confidence"], errors="coerce").fillna(0.0).clip(0.0, 1.0)
    out = pd.DataFrame(
        {
            "soc_code": extracted["soc_code"].astype(str),
            "skill_id": extracted["skill_id"].astype(str),
            "weight": ONET_TEXT * conf,
            "source": "onet_text",
            "hot_technology": False,
            "in_demand": False,
        }
    )
    return out[out["weight"] > 0]


def _aggregate(ev: pd.DataFrame) -> pd.DataFrame:
    """Collapse evidence rows to one row per (soc_code, skill_id)."""
    if ev.empty:
        return pd.DataFrame(columns=["soc_code", "skill_id", "weight", "source", "sources",
                                     "hot_technology", "in_demand"])
    ev = ev.copy()
    order = {s: i for i, s in enumerate(SOURCE_ORDER)}
    ev["src_rank"] = ev["source"].map(order).astype(int)
    ev = ev.sort_values(["soc_code", "skill_id", "weight", "src_rank"], ascending=[True, True, False, True],
                        kind="stable")
    keys = ["soc_code", "skill_id"]
    best = ev.drop_duplicates(keys)[keys + ["weight", "source"]]
    flags = ev.groupby(keys, sort=False)[["hot_technology", "in_demand"]].any()
    srcs = (
        ev[keys + ["source", "src_rank"]]
        .drop_duplicates(keys + ["source"])
        .sort_values(keys + ["src_rank"], kind="stable")
        .groupby(keys, sort=False)["source"]
        .agg("; ".join)
        .rename("sources")
    )
    out = best.join(srcs, on=keys).join(flags, on=keys)
    return out.reset_index(drop=True)


def _family_fallback(direct: pd.DataFrame, missing: Iterable[str], max_skills: int) -> pd.DataFrame:
    """Skills for SOC codes without evidence, borrowed from siblings (same SOC base, then broad group)."""
    missing = list(missing)
    if not missing or direct.empty:
        return direct.iloc[0:0]
    parts = []
    remaining = pd.Series(missing, dtype=object)
    # "15-1252" (detailed SOC), "15-125" (broad group), "15-1" (minor group), "15" (major group)
    for width in (7, 6, 4, 2):
        if remaining.empty:
            break
        fam = direct.assign(fam=direct["soc_code"].str[:width])
        best = fam.groupby(["fam", "skill_id"], as_index=False)["weight"].max()
        best = best.sort_values(["fam", "weight", "skill_id"], ascending=[True, False, True], kind="stable")
        best = best.groupby("fam", sort=False).head(max_skills)
        want = pd.DataFrame({"soc_code": remaining, "fam": remaining.str[:width]})
        got = want.merge(best, on="fam")
        if got.empty:
            continue
        got["weight"] = got["weight"] * FAMILY_FACTOR
        got["source"] = "soc_family"
        got["sources"] = "soc_family"
        got["hot_technology"] = False
        got["in_demand"] = False
        parts.append(got.drop(columns="fam"))
        remaining = remaining[~remaining.isin(got["soc_code"])]
    if not parts:
        return direct.iloc[0:0]
    return pd.concat(parts, ignore_index=True)


def build_soc_skill_map(
    occupations: pd.DataFrame,
    tech_skills: pd.DataFrame,
    crosswalk: pd.DataFrame,
    esco_occ_skills: pd.DataFrame,
    taxonomy: pd.DataFrame,
    extracted: pd.DataFrame | None = None,
    *,
    family_fallback: bool = True,
    family_max_skills: int = 50,
) -> pd.DataFrame:
    """SOC -> skill map over every SOC code in ``occupations`` (see module docstring for weights).

    Inputs follow docs/CONTRACT.md (reference loaders and ``build_taxonomy``); ``extracted`` holds
    ``soc_code, skill_id, confidence`` from running the extractor on O*NET descriptions and tasks.
    SOC codes outside ``occupations`` are dropped. ``family_fallback`` fills SOC codes that have no
    evidence at all from sibling codes (source ``soc_family``); use :func:`coverage_report` to count the
    codes that remain without skills. Rows are sorted by soc_code, weight desc, skill_id.
    """
    soc_codes = pd.Index(occupations["soc_code"].astype(str).unique())
    parts = [_tech_rows(tech_skills, taxonomy), _esco_rows(crosswalk, esco_occ_skills, taxonomy)]
    if extracted is not None and len(extracted):
        parts.append(_text_rows(extracted))
    ev = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else None
    if ev is None:
        direct = _aggregate(pd.DataFrame(columns=["soc_code", "skill_id", "weight", "source"]))
    else:
        ev = ev[ev["soc_code"].isin(soc_codes) & ev["skill_id"].notna()]
        direct = _aggregate(ev)
    if family_fallback:
        missing = soc_codes.difference(pd.Index(direct["soc_code"].unique()))
        fb = _family_fallback(direct, missing, family_max_skills)
        if len(fb):
            direct = pd.concat([direct, fb[direct.columns]], ignore_index=True)
    labels = taxonomy.drop_duplicates("skill_id").set_index("skill_id")["label"]
    direct["label"] = direct["skill_id"].map(labels)
    direct["label"] = direct["label"].fillna(direct["skill_id"]).astype(str)
    out = direct[SOC_MAP_COLUMNS].copy()
    out["weight"] = out["weight"].astype(np.float64).clip(0.0, 1.0)
    out["hot_technology"] = out["hot_technology"].astype(bool)
    out["in_demand"] = out["in_demand"].astype(bool)
    out = out[out["weight"] > 0]
    return out.sort_values(["soc_code", "weight", "skill_id"], ascending=[True, False, True],
                           kind="stable").reset_index(drop=True)


def coverage_report(soc_map: pd.DataFrame, occupations: pd.DataFrame) -> dict[str, object]:
    """How many SOC codes have skills, per-source counts, and the codes without any skill."""
    all_codes = pd.Index(occupations["soc_code"].astype(str).unique())
    covered = pd.Index(soc_map["soc_code"].unique())
    missing = sorted(all_codes.difference(covered))
    per_source = soc_map.groupby("source")["soc_code"].nunique().to_dict()
    direct = soc_map[soc_map["source"] != "soc_family"]["soc_code"].nunique()
    sizes = soc_map.groupby("soc_code").size()
    return {
        "soc_codes": len(all_codes),
        "covered": int(all_codes.isin(covered).sum()),
        "covered_without_fallback": int(direct),
        "uncovered": len(missing),
        "uncovered_codes": missing,
        "socs_per_source": {str(k): int(v) for k, v in per_source.items()},
        "skills_per_soc_median": float(sizes.median()) if len(sizes) else 0.0,
        "rows": len(soc_map),
    }


class _Mention(Protocol):
    skill_id: str
    confidence: float


class _Extractor(Protocol):
    def extract(self, text: str) -> list[_Mention]: ...


def extract_onet_text_skills(
    occupations: pd.DataFrame, tasks: pd.DataFrame | None, extractor: _Extractor
) -> pd.DataFrame:
    """Run ``extractor`` on each SOC's description + task statements -> ``soc_code, skill_id, confidence``.

    Thin glue over the extractor (``OfflineExtractor`` in production); one document per SOC code.
    """
    text = occupations.set_index(occupations["soc_code"].astype(str))["description"].fillna("").astype(str)
    text = text.groupby(level=0).first()
    if tasks is not None and len(tasks):
        t = tasks.assign(soc_code=tasks["soc_code"].astype(str)).groupby("soc_code")["task"]
        joined = t.agg(lambda s: "\n".join(str(x) for x in s if isinstance(x, str)))
        text = (text + "\n" + joined.reindex(text.index).fillna("")).str.strip()
    rows: list[tuple[str, str, float]] = []
    for soc, doc in text.items():
        if not doc:
            continue
        for m in extractor.extract(doc):
            rows.append((str(soc), m.skill_id, float(m.confidence)))
    return pd.DataFrame(rows, columns=["soc_code", "skill_id", "confidence"])
