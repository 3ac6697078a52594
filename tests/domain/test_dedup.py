from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from skillatlas.reference.dedup import (
    MERGE_MAP_COLUMNS,
    active_merges,
    apply_merge_map,
    find_near_duplicates,
    similar_pairs,
    undo_merge,
)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


@pytest.fixture()
def case() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(0)
    base1, base2, other = (_unit(rng.standard_normal(32)) for _ in range(3))
    noise = lambda: 0.02 * rng.standard_normal(32)  # noqa: E731 - cos to base ~ 0.99
    vecs = np.vstack([
        base1 + noise(),  # a: esco, 2 aliases
        base1 + noise(),  # b: onet
        base1 + noise(),  # c: esco, 3 aliases -> winner of {a, b, c}
        base2 + noise(),  # d: onet, long label
        base2 + noise(),  # e: onet, short label -> winner of {d, e}
        other,            # f: alone
    ])
    skills = pd.DataFrame({
        "skill_id": ["esco:a", "onet:b", "esco:c", "onet:d", "onet:e", "esco:f"],
        "label": ["python programming", "Python", "Python (computer programming)", "Microsoft Excel software",
                  "Excel", "welding"],
        "source": ["esco", "onet_tech", "esco", "onet_tech", "onet_tech", "esco"],
        "aliases": [["x", "y"], ["p"], ["x", "y", "z"], ["e1"], ["e2"], ["w"]],
    })
    return skills, vecs


def test_clusters_and_winner_rule(case: tuple[pd.DataFrame, np.ndarray]) -> None:
    skills, vecs = case
    m = find_near_duplicates(skills, vecs)
    assert list(m.columns) == MERGE_MAP_COLUMNS
    canon = dict(zip(m["skill_id"], m["canonical_id"], strict=True))
    assert canon == {"esco:a": "esco:c", "onet:b": "esco:c", "esco:c": "esco:c",
                     "onet:d": "onet:e", "onet:e": "onet:e"}
    assert m.groupby("cluster_id").size().sort_values().tolist() == [2, 3]
    assert (m.loc[m["skill_id"] == m["canonical_id"], "similarity"] == 1.0).all()
    others = m[m["skill_id"] != m["canonical_id"]]["similarity"]
    assert ((others >= 0.95) & (others < 1.0)).all()
    assert m["undone_at"].isna().all() and m["valid_from"].notna().all()


def test_threshold_is_configurable(case: tuple[pd.DataFrame, np.ndarray]) -> None:
    skills, vecs = case
    assert find_near_duplicates(skills, vecs, threshold=0.99999).empty
    with pytest.raises(ValueError):
        find_near_duplicates(skills, vecs[:3])


def test_blocked_pairs_equal_brute_force() -> None:
    rng = np.random.default_rng(1)
    v = rng.standard_normal((57, 8)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    i, j, s = similar_pairs(v, 0.5, block_size=7)
    full = v @ v.T
    bi, bj = np.nonzero(np.triu(full >= 0.5, k=1))
    assert set(zip(i.tolist(), j.tolist(), strict=True)) == set(zip(bi.tolist(), bj.tolist(), strict=True))
    np.testing.assert_allclose(s, full[i, j], rtol=1e-5)


def test_screened_sweep_is_exact() -> None:
    # correlated vectors (shared component + clusters of near copies): the screen must not drop any pair
    rng = np.random.default_rng(3)
    common = rng.standard_normal(128)
    centers = rng.standard_normal((40, 128)) + 2 * common
    v = np.repeat(centers, 6, axis=0) + rng.uniform(0.05, 0.6) * rng.standard_normal((240, 128))
    v = v.astype(np.float32)
    for th in (0.97, 0.95, 0.9):
        i0, j0, _ = similar_pairs(v, th, block_size=50, screen_dims=None)
        i1, j1, s1 = similar_pairs(v, th, block_size=50, screen_dims=16)
        assert len(i0) > 0
        pairs0 = set(zip(i0.tolist(), j0.tolist(), strict=True))
        assert pairs0 == set(zip(i1.tolist(), j1.tolist(), strict=True))
        assert (s1 >= th).all()


def test_apply_and_undo_keep_history(case: tuple[pd.DataFrame, np.ndarray]) -> None:
    skills, vecs = case
    m = find_near_duplicates(skills, vecs)
    mentions = pd.DataFrame({"doc_id": [1, 1, 2], "skill_id": ["onet:b", "esco:f", "onet:d"]})
    merged = apply_merge_map(mentions, m, "skill_id", original_column="raw_id")
    assert merged["skill_id"].tolist() == ["esco:c", "esco:f", "onet:e"]
    assert merged["raw_id"].tolist() == ["onet:b", "esco:f", "onet:d"]

    m2 = undo_merge(m, "onet:b", at="2025-01-01T00:00:00+00:00")
    assert len(m2) == len(m)  # history kept: nothing deleted
    row = m2[m2["skill_id"] == "onet:b"].iloc[0]
    assert row["undone_at"] == "2025-01-01T00:00:00+00:00"
    assert apply_merge_map(mentions, m2)["skill_id"].tolist() == ["onet:b", "esco:f", "onet:e"]
    assert apply_merge_map(pd.DataFrame({"skill_id": ["esco:a"]}), m2)["skill_id"].tolist() == ["esco:c"]

    # undoing a canonical dissolves its cluster (identity row closed too)
    m3 = undo_merge(m2, "onet:e")
    assert active_merges(m3)["skill_id"].tolist() == ["esco:a"]
    assert m3.loc[m3["cluster_id"] == "dup:onet:e", "undone_at"].notna().all()
    with pytest.raises(KeyError):
        undo_merge(m3, "onet:b")  # already undone
    with pytest.raises(KeyError):
        undo_merge(m3, "esco:f")  # never merged


def test_undo_survives_a_new_sweep(case: tuple[pd.DataFrame, np.ndarray]) -> None:
    skills, vecs = case
    m = undo_merge(find_near_duplicates(skills, vecs), "onet:b", at="2025-02-02T00:00:00+00:00")
    again = find_near_duplicates(skills, vecs, previous=m)
    row = again[again["skill_id"] == "onet:b"].iloc[0]
    assert row["undone_at"] == "2025-02-02T00:00:00+00:00"
    assert set(active_merges(again)["skill_id"]) == {"esco:a", "onet:d"}
    # a pair undone in a 2-member cluster closes the cluster's identity row as well
    m_de = undo_merge(find_near_duplicates(skills, vecs), "onet:d")
    again2 = find_near_duplicates(skills, vecs, previous=m_de)
    assert again2.loc[again2["cluster_id"] == "dup:onet:e", "undone_at"].notna().all()


def test_scales_to_taxonomy_size_quickly() -> None:
    rng = np.random.default_rng(2)
    v = rng.standard_normal((4000, 384)).astype(np.float32)
    v[10] = v[20] + 0.001
    skills = pd.DataFrame({"skill_id": [f"s{i}" for i in range(4000)]})
    m = find_near_duplicates(skills, v)
    assert set(m["skill_id"]) == {"s10", "s20"}
