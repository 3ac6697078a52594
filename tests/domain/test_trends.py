from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from skillatlas.score.trends import (
    DAILY_COLUMNS,
    compare_hot_technologies,
    daily_skill_demand,
    hot_technology_skill_ids,
    rolling_trends,
)


def test_daily_counts_distinct_postings_and_share() -> None:
    ps = pd.DataFrame(
        [
            ("p1", "2025-03-01", "py", "Python"),
            ("p1", "2025-03-01", "py", "Python"),  # same posting twice: counted once
            ("p1", "2025-03-01", "sql", "SQL"),
            ("p2", "2025-03-01", "py", "Python"),
            ("p3", "2025-03-01", "xl", "Excel"),
            ("p4", "2025-03-02", "py", "Python"),
        ],
        columns=["doc_id", "day", "skill_id", "label"],
    )
    d = daily_skill_demand(ps)
    assert list(d.columns) == DAILY_COLUMNS
    by = d.set_index(["day", "skill_id"])
    assert by.loc[("2025-03-01", "py"), "postings"] == 2
    assert by.loc[("2025-03-01", "py"), "share"] == pytest.approx(2 / 3)
    assert by.loc[("2025-03-01", "sql"), "share"] == pytest.approx(1 / 3)
    assert by.loc[("2025-03-02", "py"), "share"] == pytest.approx(1.0)
    assert by.loc[("2025-03-01", "xl"), "label"] == "Excel"
    assert by.loc[("2025-03-01", "py"), "total_postings"] == 3


def _synthetic(days: int = 60, per_day: int = 10) -> pd.DataFrame:
    """``per_day`` postings a day. "stable" in 2 of them every day; "hot" in 1 a day until the last 7 days,
    then in 5 a day. Day 20 has no postings at all."""
    rows = []
    start = date(2025, 1, 1)
    for t in range(days):
        if t == 20:
            continue
        day = (start + timedelta(days=t)).isoformat()
        hot_n = 5 if t >= days - 7 else 1
        for k in range(per_day):
            doc = f"d{t}-{k}"
            rows.append((doc, day, "filler", "Filler"))
            if k < 2:
                rows.append((doc, day, "stable", "Stable"))
            if k < hot_n:
                rows.append((doc, day, "hot", "Hot"))
    return pd.DataFrame(rows, columns=["doc_id", "day", "skill_id", "label"])


def test_rolling_windows_and_rising_flag() -> None:
    daily = daily_skill_demand(_synthetic())
    tr = rolling_trends(daily, windows=(7, 30), min_count=5)
    last = tr[tr["day"] == "2025-03-01"].set_index("skill_id")  # day index 59
    assert last.loc["hot", "postings_7d"] == 35
    assert last.loc["hot", "postings_30d"] == 35 + 23  # days 30..52 at 1 a day
    assert last.loc["hot", "total_7d"] == 70
    assert last.loc["hot", "share_7d"] == pytest.approx(0.5)
    # baseline = the 30 days before the last 7: days 23..52, one posting a day
    assert last.loc["hot", "baseline_postings"] == 30
    assert last.loc["hot", "baseline_total"] == 300
    expected = math.log2(((35 + 0.5) / 71) / ((30 + 0.5) / 301))
    assert last.loc["hot", "growth"] == pytest.approx(expected)
    assert bool(last.loc["hot", "rising"]) is True
    assert bool(last.loc["stable", "rising"]) is False
    assert abs(last.loc["stable", "growth"]) < 0.1
    # the empty calendar day counts as zero postings in the windows
    d27 = tr[tr["day"] == "2025-01-28"].set_index("skill_id")  # index 27: window 21..27, all with data
    d21 = tr[tr["day"] == "2025-01-22"].set_index("skill_id")  # index 21: window 15..21 has empty day 20
    assert d27.loc["stable", "postings_7d"] == 14
    assert d21.loc["stable", "postings_7d"] == 12
    empty_day = tr[tr["day"] == "2025-01-21"].set_index("skill_id")  # calendar is dense: rows exist
    assert empty_day.loc["stable", "postings"] == 0 and empty_day.loc["stable", "postings_7d"] == 12


def test_min_count_and_day_filter() -> None:
    daily = daily_skill_demand(_synthetic())
    strict = rolling_trends(daily, min_count=50, days=["2025-03-01"])
    assert set(strict["day"]) == {"2025-03-01"}
    assert not strict["rising"].any()
    custom = rolling_trends(daily, windows=(3, 10), days=["2025-03-01"])
    assert {"postings_3d", "postings_10d", "share_3d"} <= set(custom.columns)
    assert custom.set_index("skill_id").loc["hot", "postings_3d"] == 15
    with pytest.raises(ValueError):
        rolling_trends(daily, windows=(30, 7))


def test_total_postings_recovered_from_share() -> None:
    daily = daily_skill_demand(_synthetic()).drop(columns="total_postings")
    tr = rolling_trends(daily, days=["2025-03-01"]).set_index("skill_id")
    assert tr.loc["hot", "total_7d"] == 70


def test_compare_hot_technologies() -> None:
    daily = daily_skill_demand(_synthetic())
    trends = rolling_trends(daily, min_count=5)
    taxonomy = pd.DataFrame(
        {
            "skill_id": ["onet:hot", "onet:stable", "onet:never-seen", "esco:filler-twin"],
            "label": ["Hot", "Stable", "Never Seen", "Filler"],
            "source": ["onet_tech", "onet_tech", "onet_tech", "esco"],
            "same_as": [None, None, None, None],
        }
    )
    tech = pd.DataFrame(
        {
            "soc_code": ["15-1252.00", "15-1252.00", "11-1011.00", "11-1011.00"],
            "example": ["Hot", "Stable", "stable", "Never Seen"],
            "hot_technology": [True, False, True, True],
            "in_demand": [True, False, False, False],
        }
    )
    flags = hot_technology_skill_ids(tech, taxonomy).set_index("skill_id")
    assert flags.loc["onet:stable", "hot_socs"] == 1 and bool(flags.loc["onet:hot", "in_demand"])
    # postings use the taxonomy ids
    trends = trends.assign(skill_id=trends["skill_id"].map({"hot": "onet:hot", "stable": "onet:stable",
                                                            "filler": "esco:filler-twin"}))
    cmp = compare_hot_technologies(trends, tech, taxonomy)
    cats = dict(zip(cmp["skill_id"], cmp["category"], strict=True))
    assert cats == {"onet:hot": "both", "onet:stable": "hot_only"}  # never-seen is not observed
    s = cmp.attrs["summary"]
    assert s["day"] == "2025-03-01"
    assert (s["rising"], s["hot_observed"], s["both"]) == (1, 2, 1)
    assert s["jaccard"] == pytest.approx(0.5)
    assert s["rising_that_are_hot"] == pytest.approx(1.0)


def test_empty_inputs() -> None:
    empty = pd.DataFrame(columns=["doc_id", "day", "skill_id", "label"])
    d = daily_skill_demand(empty)
    assert d.empty and list(d.columns) == DAILY_COLUMNS
    assert rolling_trends(d).empty
    assert np.isfinite(rolling_trends(daily_skill_demand(_synthetic()))["growth"]).all()


def test_taxonomy_with_its_own_flag_columns_is_accepted() -> None:
    """The real taxonomy carries a hot_technology column of its own; it must not clash with O*NET's flags."""
    taxonomy = pd.DataFrame(
        {"skill_id": ["onet:hot"], "label": ["Hot"], "source": ["onet_tech"], "same_as": [None],
         "hot_technology": [False]}
    )
    tech = pd.DataFrame({"example": ["Hot"], "hot_technology": [True], "in_demand": [False]})
    flags = hot_technology_skill_ids(tech, taxonomy).set_index("skill_id")
    assert bool(flags.loc["onet:hot", "hot_technology"])


def test_counts_stored_as_text_give_the_same_trends() -> None:
    """A warehouse table created from an empty, untyped frame stores counts as TEXT; the trends must not change."""
    daily = pd.DataFrame({
        "day": ["2026-11-01", "2026-11-02", "2026-11-02"],
        "skill_id": ["a", "a", "b"],
        "label": ["A", "A", "B"],
        "postings": [1, 3, 2],
        "share": [0.5, 0.75, 0.5],
    })
    as_text = daily.astype({"postings": str, "share": str})
    pd.testing.assert_frame_equal(rolling_trends(as_text, min_count=1), rolling_trends(daily, min_count=1))
