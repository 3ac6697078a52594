"""Evaluation metrics on a tiny hand-made Decorte-format CSV with known answers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from skillatlas.evaluation.extraction import (
    GoldSentence,
    evaluate_extractor,
    evaluate_rankings,
    r_precision_at_k,
    read_decorte_csv,
    reciprocal_rank,
)

CSV = """sentence,span,sub_span,label
Python and SQL,Python,,Python (computer programming)
Python and SQL,SQL,,SQL
Python and SQL,and,,LABEL NOT PRESENT
care for horses daily,horses,,care for horses
only noise here,noise,,UNDERSPECIFIED
"""


@pytest.fixture()
def csv_path(tmp_path: Path) -> Path:
    p = tmp_path / "gold.csv"
    p.write_text(CSV, encoding="utf-8")
    return p


def test_read_groups_by_sentence(csv_path: Path) -> None:
    gold = read_decorte_csv(csv_path)
    assert gold == [GoldSentence("Python and SQL", ("Python (computer programming)", "SQL")),
                    GoldSentence("care for horses daily", ("care for horses",))]


def test_sentence_label_format(tmp_path: Path) -> None:
    p = tmp_path / "tw.csv"
    p.write_text("sentence,label\nA,x\nA,y\nA,x\nB,LABEL NOT PRESENT\n", encoding="utf-8")
    assert read_decorte_csv(p) == [GoldSentence("A", ("x", "y"))]
    bad = tmp_path / "bad.csv"
    bad.write_text("foo,bar\n1,2\n", encoding="utf-8")
    with pytest.raises(ValueError):
        read_decorte_csv(bad)


def test_metrics_known_values() -> None:
    assert r_precision_at_k(["a", "x", "b"], ["a", "b"], 5) == 1.0
    assert r_precision_at_k(["a", "x", "b"], ["a", "b"], 2) == 0.5
    assert r_precision_at_k(["x"] * 3 + ["a"], ["a"], 5) == 1.0  # duplicates count once
    assert r_precision_at_k(list("abcdefghijk"), list("abcdefghijkl"), 10) == 1.0  # min(k, |gold|)
    assert r_precision_at_k([], ["a"], 5) == 0.0
    assert reciprocal_rank(["x", "y", "a"], ["a", "b"]) == pytest.approx(1 / 3)
    assert reciprocal_rank(["x"], ["a"]) == 0.0
    gold = [GoldSentence("s1", ("a", "b")), GoldSentence("s2", ("c",))]
    res = evaluate_rankings(gold, [["a", "x", "y", "z", "w", "b"], ["q", "c"]])
    assert res.n_sentences == 2
    assert res.r_precision_at_5 == pytest.approx((0.5 + 1.0) / 2)
    assert res.r_precision_at_10 == pytest.approx(1.0)
    assert res.mrr == pytest.approx((1.0 + 0.5) / 2)


class _FakeExtractor:
    def rank(self, sentence: str, k: int = 10) -> list[tuple[str, float]]:
        table = {"Python and SQL": [("id:sql", 0.9), ("onet:nope", 0.8), ("id:py", 0.7)],
                 "care for horses daily": [("id:dogs", 0.9), ("id:horses", 0.5)]}
        return table[sentence][:k]


def test_evaluate_extractor_maps_ids(csv_path: Path) -> None:
    label_of = {"id:sql": "SQL", "id:py": "Python (computer programming)", "id:horses": "care for horses",
                "id:dogs": "care for dogs"}
    res = evaluate_extractor(_FakeExtractor(), read_decorte_csv(csv_path), label_of)
    assert res.r_precision_at_5 == pytest.approx(1.0)
    assert res.mrr == pytest.approx((1.0 + 0.5) / 2)  # unmapped ids are dropped before ranking


def test_cli_eval_extraction_json(csv_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from skillatlas.cli import main

    assert main(["eval-extraction", str(csv_path), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert payload["n_sentences"] == 2
    assert payload["r_precision@5"] == pytest.approx(1.0)  # exact labels are found by the offline extractor
    assert 0 < payload["mrr"] <= 1
    assert main(["eval-extraction", str(csv_path.parent / "missing.csv")]) == 2
