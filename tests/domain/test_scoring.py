from __future__ import annotations

import argparse
import io
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from skillatlas.score.alignment import SCORE_COLUMNS, TierPolicy, alignment_scores, assign_tiers, compute_idf


def _skills(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["entity_id", "skill_id", "weight"])


FLAT_IDF = pd.Series({s: 1.0 for s in "abcdefgh"})


def test_hand_computed_overlap_ranks_and_drop_zero() -> None:
    courses = _skills([("c1", "a", 1), ("c1", "b", 1)])
    targets = _skills([("t1", "a", 1), ("t1", "b", 1), ("t2", "a", 1), ("t2", "c", 1), ("t3", "d", 1)])
    out = alignment_scores(courses, targets, idf=FLAT_IDF)
    assert list(out.columns) == SCORE_COLUMNS
    assert out["target_id"].tolist() == ["t1", "t2"]  # t3 shares nothing: dropped
    assert out["score"].tolist() == pytest.approx([1.0, 0.5])
    assert out["overlap_score"].tolist() == pytest.approx([1.0, 0.5])
    assert out["semantic_score"].tolist() == [0.0, 0.0]
    assert out["rank"].tolist() == [1, 2]
    assert out["shared_skills"].tolist() == ["a; b", "a"]
    assert out["gap_skills"].tolist() == ["", "c"]


def test_idf_makes_rare_skills_weigh_more() -> None:
    targets = _skills([("t1", "common", 1), ("t1", "rare", 1), ("t2", "common", 1), ("t3", "common", 1)])
    idf = compute_idf(targets)
    assert idf["common"] == pytest.approx(1.0)  # log(4/4) + 1
    assert idf["rare"] == pytest.approx(1 + math.log(2))  # log(4/2) + 1
    courses = _skills([("rare_only", "rare", 1), ("common_only", "common", 1)])
    out = alignment_scores(courses, targets).set_index(["course_id", "target_id"])["score"]
    norm = math.sqrt(1 + (1 + math.log(2)) ** 2)
    assert out[("rare_only", "t1")] == pytest.approx((1 + math.log(2)) / norm, abs=1e-6)
    assert out[("common_only", "t1")] == pytest.approx(1 / norm, abs=1e-6)
    assert out[("common_only", "t2")] == pytest.approx(1.0, abs=1e-6)
    assert out[("rare_only", "t1")] > out[("common_only", "t1")]


def test_weights_and_duplicate_rows_keep_max() -> None:
    courses = _skills([("c", "a", 0.2), ("c", "a", 1.0), ("c", "b", 1.0)])  # a duplicated: max = 1.0
    targets = _skills([("t", "a", 1.0)])
    out = alignment_scores(courses, targets, idf=FLAT_IDF)
    assert out["score"].iloc[0] == pytest.approx(1 / math.sqrt(2), abs=1e-6)


def test_semantic_combination_and_missing_vectors() -> None:
    courses = _skills([("c", "a", 1), ("c", "b", 1)])
    targets = _skills([("t1", "a", 1), ("t1", "c", 1), ("t2", "a", 1), ("t2", "c", 1)])
    cvec = pd.DataFrame([[1.0, 0.0]], index=["c"])
    tvec = pd.DataFrame([[0.6, 0.8]], index=["t1"])  # t2 has no vector
    out = alignment_scores(courses, targets, course_vectors=cvec, target_vectors=tvec, idf=FLAT_IDF)
    by = out.set_index("target_id")
    assert by.loc["t1", "overlap_score"] == pytest.approx(0.5)
    assert by.loc["t1", "semantic_score"] == pytest.approx(0.6)
    assert by.loc["t1", "score"] == pytest.approx(0.7 * 0.5 + 0.3 * 0.6)
    assert by.loc["t2", "score"] == pytest.approx(0.5)  # no vector: overlap only, not dragged down
    assert by.loc["t1", "rank"] == 1
    # custom weights, mapping form of vectors
    out2 = alignment_scores(
        courses, targets, course_vectors={"c": np.array([1.0, 0.0])},
        target_vectors={"t1": np.array([0.6, 0.8])}, idf=FLAT_IDF, weights=(1.0, 1.0),
    )
    assert out2.set_index("target_id").loc["t1", "score"] == pytest.approx(0.55)


def test_semantic_only_match_when_no_overlap() -> None:
    courses = _skills([("c", "a", 1)])
    targets = _skills([("t", "z", 1)])
    out = alignment_scores(
        courses, targets, course_vectors=pd.DataFrame([[1.0, 0.0]], index=["c"]),
        target_vectors=pd.DataFrame([[1.0, 0.0]], index=["t"]), idf=FLAT_IDF,
    )
    assert out["score"].iloc[0] == pytest.approx(0.3)
    assert out["gap_skills"].iloc[0] == "z"


def test_explanations_ordered_by_contribution_and_weight() -> None:
    courses = _skills([("c", "a", 1.0), ("c", "b", 0.2), ("c", "e", 0.5)])
    targets = _skills([("t", "a", 0.3), ("t", "b", 1.0), ("t", "c", 0.9), ("t", "d", 0.5), ("t", "f", 0.7)])
    labels = {"a": "Alpha", "b": "Beta", "c": "Gamma", "d": "Delta", "e": "Eps", "f": "Phi"}
    out = alignment_scores(courses, targets, idf=FLAT_IDF, skill_labels=labels, max_gaps=2)
    # contributions: a 1.0*0.3 = 0.3 > b 0.2*1.0 = 0.2
    assert out["shared_skills"].iloc[0] == "Alpha; Beta"
    # gaps by target weight: c 0.9, f 0.7, (d 0.5 cut by max_gaps)
    assert out["gap_skills"].iloc[0] == "Gamma; Phi"


def test_labels_from_input_label_column() -> None:
    courses = pd.DataFrame({"entity_id": ["c"], "skill_id": ["a"], "label": ["Python"]})
    targets = pd.DataFrame({"entity_id": ["t", "t"], "skill_id": ["a", "b"], "label": ["Python", "SQL"]})
    out = alignment_scores(courses, targets)
    assert out["shared_skills"].iloc[0] == "Python"
    assert out["gap_skills"].iloc[0] == "SQL"


def _random_case(
    seed: int, n_c: int = 40, n_t: int = 30, vocab: int = 25
) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    rows_c = [(f"c{i}", f"s{s}", rng.uniform(0.1, 1)) for i in range(n_c)
              for s in rng.choice(vocab, rng.integers(1, 8), replace=False)]
    rows_t = [(f"t{i}", f"s{s}", rng.uniform(0.1, 1)) for i in range(n_t)
              for s in rng.choice(vocab, rng.integers(1, 12), replace=False)]
    return _skills(rows_c), _skills(rows_t)


def _brute_force(courses: pd.DataFrame, targets: pd.DataFrame) -> pd.DataFrame:
    idf = compute_idf(targets)
    vocab = sorted(set(courses["skill_id"]) | set(targets["skill_id"]))

    def dense(df: pd.DataFrame) -> pd.DataFrame:
        m = df.pivot_table(index="entity_id", columns="skill_id", values="weight", aggfunc="max")
        m = m.reindex(columns=vocab).fillna(0.0) * idf.reindex(vocab).fillna(idf.max()).to_numpy()
        return m.div(np.sqrt((m**2).sum(axis=1)), axis=0)

    c, t = dense(courses), dense(targets)
    return pd.DataFrame(c.to_numpy() @ t.to_numpy().T, index=c.index, columns=t.index)


@pytest.mark.parametrize("top_k", [1, 5, 1000])
def test_top_k_matches_brute_force(top_k: int) -> None:
    courses, targets = _random_case(7)
    full = _brute_force(courses, targets)
    out = alignment_scores(courses, targets, top_k=top_k, chunk_rows=7)
    for cid, grp in out.groupby("course_id"):
        row = full.loc[cid]
        expected = row[row > 0].sort_values(ascending=False).head(top_k)
        assert grp["rank"].tolist() == list(range(1, len(grp) + 1))
        assert grp["score"].is_monotonic_decreasing
        assert set(grp["target_id"]) == set(expected.index)
        np.testing.assert_allclose(grp["score"].to_numpy(), expected.to_numpy(), rtol=1e-5, atol=1e-6)
    n_positive = (full > 0).sum(axis=1).clip(upper=top_k)
    assert len(out) == int(n_positive.sum())


def test_chunking_does_not_change_results() -> None:
    courses, targets = _random_case(3)
    a = alignment_scores(courses, targets, top_k=4, chunk_rows=3)
    b = alignment_scores(courses, targets, top_k=4, chunk_rows=4096)
    pd.testing.assert_frame_equal(a, b)


def test_tiers_absolute_floor_and_rank_cap() -> None:
    policy = TierPolicy(a_min_score=0.6, a_max_rank=2, b_min_score=0.3, b_max_rank=3)
    score = np.array([0.9, 0.8, 0.7, 0.9, 0.5, 0.2])
    rank = np.array([1, 2, 3, 4, 1, 1])
    assert assign_tiers(score, rank, policy).tolist() == ["A", "A", "B", "C", "B", "C"]
    courses = _skills([("c", "a", 1)])
    targets = _skills([("t1", "a", 1), ("t2", "a", 1), ("t2", "b", 1), ("t3", "a", 1), ("t3", "b", 1),
                       ("t3", "c", 1), ("t3", "d", 1)])
    out = alignment_scores(courses, targets, idf=FLAT_IDF, tiers=policy)
    # scores 1.0 (rank 1), 0.707 (rank 2), 0.5 (rank 3)
    assert out["tier"].astype(str).tolist() == ["A", "A", "B"]
    default = alignment_scores(courses, targets, idf=FLAT_IDF)
    assert default["tier"].astype(str).tolist() == ["A", "B", "B"]  # the default A is rank 1 only


def test_empty_inputs_and_bad_args() -> None:
    empty = _skills([])
    out = alignment_scores(empty, _skills([("t", "a", 1)]))
    assert list(out.columns) == SCORE_COLUMNS and out.empty
    with pytest.raises(ValueError):
        alignment_scores(_skills([("c", "a", 1)]), _skills([("t", "a", 1)]), top_k=0)
    with pytest.raises(ValueError):
        alignment_scores(_skills([("c", "a", 1)]), _skills([("t", "a", 1)]), weights=(0.0, 0.0))


def test_match_cli_reads_scores_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy import create_engine

    from skillatlas.cli import query as query_cli

    courses = _skills([("doc-1", "a", 1), ("doc-1", "b", 1)])
    targets = _skills([("15-1252.00", "a", 1), ("15-1252.00", "b", 1), ("11-1011.00", "a", 1),
                       ("11-1011.00", "c", 1)])
    scores = alignment_scores(courses, targets, idf=FLAT_IDF)
    url = f"sqlite:///{tmp_path / 'wh.sqlite'}"
    parser = argparse.ArgumentParser()
    query_cli.register(parser.add_subparsers(dest="cmd"))

    # warehouse missing -> clear message, no file created
    monkeypatch.setenv("SKILLATLAS_WAREHOUSE_URL", url)
    args = parser.parse_args(["match", "doc-1"])
    assert args.func(args, io.StringIO()) == 1
    assert not (tmp_path / "wh.sqlite").exists()

    engine = create_engine(url)
    pd.DataFrame({"x": [1]}).to_sql("other", engine)
    assert args.func(args, io.StringIO()) == 1  # table missing

    scores.assign(tier=scores["tier"].astype(str)).to_sql("course_occupation_scores", engine, index=False)
    engine.dispose()
    buf = io.StringIO()
    as_json = parser.parse_args(["match", "doc-1", "--json"])
    assert as_json.func(as_json, buf) == 0
    payload = json.loads(buf.getvalue())
    assert [m["target_id"] for m in payload["matches"]] == ["15-1252.00", "11-1011.00"]
    assert payload["matches"][1]["gap_skills"] == "c"
    text = io.StringIO()
    assert args.func(args, text) == 0
    assert "15-1252.00" in text.getvalue() and "gaps:   c" in text.getvalue()
    missing = parser.parse_args(["match", "doc-2"])
    assert missing.func(missing, io.StringIO()) == 1


def test_tier_a_needs_skill_evidence() -> None:
    """A high blended score from embedding similarity alone (no shared skill) is not tier A."""
    policy = TierPolicy()
    score = np.array([0.35, 0.35, 0.35, 0.35])
    rank = np.array([1, 1, 1, 4])
    overlap = np.array([0.2, 0.0, 0.2, 0.2])
    semantic = np.array([0.8, 0.9, 0.5, 0.8])
    assert assign_tiers(score, rank, policy, overlap=overlap, semantic=semantic).tolist() == ["A", "B", "B", "B"]
    courses = _skills([("c", "a", 1)])
    targets = _skills([("t1", "a", 1), ("t2", "b", 1)])
    vecs = {"c": np.array([1.0, 0.0]), "t1": np.array([1.0, 0.0]), "t2": np.array([0.95, 0.31])}
    out = alignment_scores(courses, targets, course_vectors=vecs, target_vectors=vecs, idf=FLAT_IDF)
    tiers = dict(zip(out["target_id"], out["tier"].astype(str), strict=True))
    assert tiers == {"t1": "A", "t2": "B"}  # t2: semantic 0.95 but no shared skill
