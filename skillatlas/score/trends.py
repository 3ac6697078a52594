"""Skill demand trends over job postings.

* :func:`daily_skill_demand` - postings per (day, skill) and the share of that day's postings.
* :func:`rolling_trends` - per (day, skill) rolling sums over calendar windows (default 7 and 30 days; days
  without postings count as zero) and a growth score:

  ``recent``   = the short window ending on ``day`` (``[day-6, day]`` for 7)
  ``baseline`` = the long window immediately before it (``[day-36, day-7]`` for 7/30)
  ``growth``   = ``log2(share_recent / share_baseline)`` with add-half smoothing
                 (``share = (postings + 0.5) / (total + 1)``), so a skill going from 2 % to 4 % of
                 postings scores ~1.0 whatever the overall volume
  ``rising``   = recent postings >= ``min_count`` and baseline total >= ``min_baseline_total`` and
                 growth >= ``min_growth`` (default log2(1.5): share up by half or more)

* :func:`compare_hot_technologies` - overlap between rising skills (on the latest day) and O*NET
  *Hot Technology* flags.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "DAILY_COLUMNS",
    "compare_hot_technologies",
    "daily_skill_demand",
    "hot_technology_skill_ids",
    "rolling_trends",
]

DAILY_COLUMNS = ["day", "skill_id", "label", "postings", "share", "total_postings"]


def _iso(day: pd.Series) -> pd.Series:
    return pd.to_datetime(day).dt.strftime("%Y-%m-%d")


def daily_skill_demand(postings_skills: pd.DataFrame) -> pd.DataFrame:
    """``doc_id, day, skill_id, label`` -> ``day, skill_id, label, postings, share, total_postings``.

    ``postings`` = distinct postings mentioning the skill that day; ``total_postings`` = distinct postings
    that day (those in ``postings_skills``, i.e. with at least one skill); ``share`` = postings / total.
    ``day`` is an ISO date string (warehouse convention).
    """
    ps = postings_skills.dropna(subset=["doc_id", "day", "skill_id"]).copy()
    if ps.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in DAILY_COLUMNS}).astype(
            {"postings": np.int64, "share": np.float64, "total_postings": np.int64}
        )
    ps["day"] = _iso(ps["day"])
    totals = ps.groupby("day")["doc_id"].nunique().rename("total_postings")
    counts = (
        ps.drop_duplicates(["day", "skill_id", "doc_id"])
        .groupby(["day", "skill_id"], as_index=False)
        .agg(postings=("doc_id", "size"))
    )
    if "label" in ps.columns:
        labels = ps.dropna(subset=["label"]).drop_duplicates("skill_id").set_index("skill_id")["label"]
        counts["label"] = counts["skill_id"].map(labels)
    else:
        counts["label"] = None
    counts["label"] = counts["label"].fillna(counts["skill_id"])
    counts = counts.join(totals, on="day")
    counts["share"] = counts["postings"] / counts["total_postings"]
    out = counts[DAILY_COLUMNS].sort_values(["day", "postings", "skill_id"], ascending=[True, False, True])
    out["postings"] = out["postings"].astype(np.int64)
    out["total_postings"] = out["total_postings"].astype(np.int64)
    return out.reset_index(drop=True)


def _window_sum(mat: np.ndarray, w: int, shift: int = 0) -> np.ndarray:
    """Sum of rows ``[t - shift - w + 1, t - shift]`` for every row t (zero-padded before the start)."""
    n = mat.shape[0]
    cs = np.zeros((n + 1,) + mat.shape[1:], dtype=mat.dtype)
    np.cumsum(mat, axis=0, out=cs[1:])
    t = np.arange(n)
    hi = np.clip(t - shift + 1, 0, n)
    lo = np.clip(t - shift - w + 1, 0, n)
    return cs[hi] - cs[lo]


def rolling_trends(
    daily: pd.DataFrame,
    windows: tuple[int, int] = (7, 30),
    *,
    min_count: int = 5,
    min_growth: float = float(np.log2(1.5)),
    min_baseline_total: int = 1,
    days: list[str] | None = None,
) -> pd.DataFrame:
    """Rolling demand per (day, skill) over a dense calendar (see module docstring).

    Output columns: ``day, skill_id, label, postings, postings_<s>d, postings_<l>d, total_<s>d, total_<l>d,
    share_<s>d, share_<l>d, baseline_postings, baseline_total, growth, rising`` for ``windows = (s, l)``.
    Only (day, skill) rows with postings in the long window are returned. ``days`` restricts the output
    to those ISO days (all history is still used for the windows).
    """
    short, long_ = int(windows[0]), int(windows[1])
    if not 0 < short <= long_:
        raise ValueError("windows must be (short, long) with 0 < short <= long")
    cols = ["day", "skill_id", "label", "postings", f"postings_{short}d", f"postings_{long_}d",
            f"total_{short}d", f"total_{long_}d", f"share_{short}d", f"share_{long_}d",
            "baseline_postings", "baseline_total", "growth", "rising"]
    if daily.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    d = daily.copy()
    d["day"] = _iso(d["day"])
    # counts may arrive as text: a warehouse table first created from an empty, untyped frame has TEXT columns
    for column in ("postings", "share", "total_postings"):
        if column in d.columns:
            d[column] = pd.to_numeric(d[column], errors="raise")
    if "total_postings" not in d.columns:
        d["total_postings"] = np.rint(d["postings"] / d["share"]).astype(np.int64)
    cal = pd.date_range(d["day"].min(), d["day"].max(), freq="D").strftime("%Y-%m-%d")
    day_idx = pd.Index(cal)
    skill_codes, skills = pd.factorize(d["skill_id"])
    di = day_idx.get_indexer(d["day"])
    mat = np.zeros((len(day_idx), len(skills)), dtype=np.int32)
    np.add.at(mat, (di, skill_codes), d["postings"].to_numpy(np.int32))
    totals = np.zeros(len(day_idx), dtype=np.int64)
    tot_by_day = d.drop_duplicates("day").set_index("day")["total_postings"]
    totals[day_idx.get_indexer(tot_by_day.index)] = tot_by_day.to_numpy(np.int64)

    p_s = _window_sum(mat, short)
    p_l = _window_sum(mat, long_)
    p_b = _window_sum(mat, long_, shift=short)
    t_s = _window_sum(totals, short)
    t_l = _window_sum(totals, long_)
    t_b = _window_sum(totals, long_, shift=short)

    rows, sk = np.nonzero(p_l > 0)
    if days is not None:
        wanted = day_idx.get_indexer(pd.Index([str(x) for x in days]))
        sel = np.isin(rows, wanted[wanted >= 0])
        rows, sk = rows[sel], sk[sel]
    ps_, pb_ = p_s[rows, sk], p_b[rows, sk]
    ts_, tb_ = t_s[rows], t_b[rows]
    pl_, tl_ = p_l[rows, sk], t_l[rows]
    growth = np.log2(((ps_ + 0.5) / (ts_ + 1.0)) / ((pb_ + 0.5) / (tb_ + 1.0)))
    rising = (ps_ >= min_count) & (tb_ >= min_baseline_total) & (growth >= min_growth)
    labels = d.drop_duplicates("skill_id").set_index("skill_id")["label"]
    skill_ids = np.asarray(skills, dtype=object)[sk]
    out = pd.DataFrame(
        {
            "day": day_idx.to_numpy(dtype=object)[rows],
            "skill_id": skill_ids,
            "label": labels.reindex(skill_ids).to_numpy(),
            "postings": mat[rows, sk],
            f"postings_{short}d": ps_,
            f"postings_{long_}d": pl_,
            f"total_{short}d": ts_,
            f"total_{long_}d": tl_,
            f"share_{short}d": np.divide(ps_, ts_, out=np.zeros(len(ps_)), where=ts_ > 0),
            f"share_{long_}d": np.divide(pl_, tl_, out=np.zeros(len(ps_)), where=tl_ > 0),
            "baseline_postings": pb_,
            "baseline_total": tb_,
            "growth": growth,
            "rising": rising,
        }
    )
    int_cols = ["postings", f"postings_{short}d", f"postings_{long_}d", f"total_{short}d", f"total_{long_}d",
                "baseline_postings", "baseline_total"]
    out[int_cols] = out[int_cols].astype(np.int64)
    out = out.sort_values(["day", "growth", "skill_id"], ascending=[True, False, True])
    return out.reset_index(drop=True)


def hot_technology_skill_ids(tech_skills: pd.DataFrame, taxonomy: pd.DataFrame) -> pd.DataFrame:
    """Skill ids (O*NET tech skills and their ``same_as`` ESCO twins) with any Hot / In Demand flag.

    ``tech_skills``: O*NET technology skills (``example, hot_technology, in_demand``); matched to taxonomy
    rows of source ``onet_tech`` by case-insensitive label. Returns ``skill_id, hot_technology, in_demand,
    hot_socs`` (number of SOC codes flagging it hot).
    """
    def key(s: pd.Series) -> pd.Series:
        return s.astype(str).str.casefold().str.strip()

    t = tech_skills.assign(key=key(tech_skills["example"]))
    t["hot_technology"] = t["hot_technology"].fillna(False).astype(bool)
    t["in_demand"] = t["in_demand"].fillna(False).astype(bool)
    flags = t.groupby("key").agg(
        hot_technology=("hot_technology", "any"),
        in_demand=("in_demand", "any"),
        hot_socs=("hot_technology", "sum"),
    )
    # Only identity columns: the taxonomy may carry flags of its own (e.g. hot_technology) that would clash.
    keep = [c for c in ("skill_id", "label", "source", "same_as") if c in taxonomy.columns]
    onet = taxonomy.loc[taxonomy["source"] == "onet_tech", keep].assign(key=lambda x: key(x["label"]))
    onet = onet.drop_duplicates("key").join(flags, on="key", how="inner")
    cols = ["skill_id", "hot_technology", "in_demand", "hot_socs"]
    parts = [onet[cols]]
    if "same_as" in onet.columns:
        twins = onet.dropna(subset=["same_as"])
        parts.append(twins.assign(skill_id=twins["same_as"])[cols])
    out = pd.concat(parts, ignore_index=True)
    out = out.groupby("skill_id", as_index=False).agg(
        hot_technology=("hot_technology", "any"), in_demand=("in_demand", "any"), hot_socs=("hot_socs", "max")
    )
    out["hot_socs"] = out["hot_socs"].astype(np.int64)
    return out


def compare_hot_technologies(
    trends: pd.DataFrame,
    tech_skills_with_flags: pd.DataFrame,
    taxonomy: pd.DataFrame,
    *,
    day: str | None = None,
) -> pd.DataFrame:
    """Rising skills vs O*NET Hot Technology flags on ``day`` (default: the latest day in ``trends``).

    One row per skill that is rising or hot-and-observed (seen in postings in the long window):
    ``day, skill_id, label, rising, hot_technology, in_demand, growth, postings_recent, category``
    (``both`` | ``rising_only`` | ``hot_only``), sorted by category then growth. A summary dict
    (counts, Jaccard, precision = share of rising skills that are hot) is in ``result.attrs["summary"]``.
    """
    cols = ["day", "skill_id", "label", "rising", "hot_technology", "in_demand", "growth",
            "postings_recent", "category"]
    if trends.empty:
        out = pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
        out.attrs["summary"] = _summary(out, None)
        return out
    the_day = day or str(trends["day"].max())
    snap = trends[trends["day"] == the_day]
    recent_col = next((c for c in snap.columns if c.startswith("postings_") and c.endswith("d")), "postings")
    flags = hot_technology_skill_ids(tech_skills_with_flags, taxonomy).set_index("skill_id")
    snap = snap.join(flags[["hot_technology", "in_demand"]], on="skill_id")
    snap["hot_technology"] = snap["hot_technology"].fillna(False).astype(bool)
    snap["in_demand"] = snap["in_demand"].fillna(False).astype(bool)
    snap = snap[snap["rising"] | snap["hot_technology"]]
    category = np.where(snap["rising"] & snap["hot_technology"], "both",
                        np.where(snap["rising"], "rising_only", "hot_only"))
    out = pd.DataFrame(
        {
            "day": the_day,
            "skill_id": snap["skill_id"].to_numpy(),
            "label": snap["label"].to_numpy(),
            "rising": snap["rising"].astype(bool).to_numpy(),
            "hot_technology": snap["hot_technology"].to_numpy(),
            "in_demand": snap["in_demand"].to_numpy(),
            "growth": snap["growth"].to_numpy(np.float64),
            "postings_recent": snap[recent_col].to_numpy(np.int64),
            "category": category,
        }
    )
    order = {"both": 0, "rising_only": 1, "hot_only": 2}
    out["_cat"] = out["category"].map(order)
    out = out.sort_values(["_cat", "growth", "skill_id"], ascending=[True, False, True], kind="stable")
    out = out.drop(columns="_cat").reset_index(drop=True)
    out.attrs["summary"] = _summary(out, the_day)
    return out


def _summary(table: pd.DataFrame, day: str | None) -> dict[str, object]:
    n_rising = int(table["rising"].sum()) if len(table) else 0
    n_hot = int(table["hot_technology"].sum()) if len(table) else 0
    n_both = int((table["category"] == "both").sum()) if len(table) else 0
    union = n_rising + n_hot - n_both
    return {
        "day": day,
        "rising": n_rising,
        "hot_observed": n_hot,
        "both": n_both,
        "jaccard": n_both / union if union else 0.0,
        "rising_that_are_hot": n_both / n_rising if n_rising else 0.0,
        "hot_that_are_rising": n_both / n_hot if n_hot else 0.0,
    }
