"""Offline extractor: output invariants, phrase + semantic evidence, ranking."""

from __future__ import annotations

import pandas as pd
import pytest

from skillatlas.extract.offline import OfflineExtractor, SkillMention, candidate_spans, get_offline_extractor

DOC = (
    "Senior Data Engineer\n"
    "We are looking for an engineer to build data pipelines in Python and SQL.\n"
    "You will work with Apache Spark and Kubernetes, and collaborate on machine learning models.\n"
    "Excel at problem solving. Reports are prepared in Microsoft Excel.\n"
    "Experience with R programming is a plus. You will build web pages with HTML and CSS."
)


@pytest.fixture(scope="module")
def semantic() -> OfflineExtractor:
    return get_offline_extractor(semantic=True)


@pytest.fixture(scope="module")
def phrase_only() -> OfflineExtractor:
    return get_offline_extractor(semantic=False)


def _check_invariants(text: str, mentions: list[SkillMention], min_conf: float) -> None:
    ids = [m.skill_id for m in mentions]
    assert len(ids) == len(set(ids)), "one mention per skill"
    confs = [m.confidence for m in mentions]
    assert confs == sorted(confs, reverse=True)
    for m in mentions:
        assert 0.0 <= m.confidence <= 1.0
        assert m.confidence >= min_conf
        assert m.method in {"phrase", "semantic"}
        assert 0 <= m.start < m.end <= len(text)
        assert text[m.start:m.end] == m.evidence


def test_phrase_only_invariants(phrase_only: OfflineExtractor) -> None:
    assert phrase_only.vectors is None
    mentions = phrase_only.extract(DOC)
    _check_invariants(DOC, mentions, 0.5)
    labels = {m.label for m in mentions}
    expected = {"Python (computer programming)", "SQL", "Apache Spark", "Kubernetes", "machine learning"}
    assert expected <= labels
    assert "R" in labels
    assert all(m.method == "phrase" for m in mentions)
    excel = [m for m in mentions if m.label == "Microsoft Excel"]
    assert len(excel) == 1 and excel[0].evidence == "Microsoft Excel"  # not "Excel at problem solving"
    assert phrase_only.extract("") == []


def test_canonical_ids(phrase_only: OfflineExtractor) -> None:
    # O*NET "Python" has same_as ESCO "Python (computer programming)": reported once, under the ESCO id
    ids = [m.skill_id for m in phrase_only.extract("Python developer")]
    assert ids and all(i.startswith("esco:") for i in ids)


def test_semantic_invariants(semantic: OfflineExtractor) -> None:
    mentions = semantic.extract(DOC)
    _check_invariants(DOC, mentions, semantic.min_confidence)
    by_label = {m.label: m for m in mentions}
    assert "Python (computer programming)" in by_label
    assert any(m.method == "semantic" for m in mentions)
    # nothing about horses or cooking in a data-engineering ad
    assert not any("horse" in m.label or "cook" in m.label for m in mentions)


def test_semantic_sanity_rank(semantic: OfflineExtractor) -> None:
    tax = semantic.taxonomy
    label_of = dict(zip(tax["skill_id"], tax["label"], strict=True))
    ranked = semantic.rank("build web pages with HTML and CSS", 20)
    assert len(ranked) == 20
    scores = [s for _, s in ranked]
    assert scores == sorted(scores, reverse=True) and all(0 <= s <= 1 for s in scores)
    labels = [label_of[sid] for sid, _ in ranked]
    assert any("web" in lab.lower() or "CSS" in lab or "HTML" in lab for lab in labels[:5])
    assert "care for horses" not in labels
    ranked_all = dict(semantic.rank("care for horses", 5))
    horses = tax.loc[tax["label"] == "care for horses", "skill_id"].iloc[0]
    assert horses in ranked_all


def test_min_confidence_filters(semantic: OfflineExtractor) -> None:
    default = semantic.extract(DOC)
    old = semantic.min_confidence
    try:
        semantic.min_confidence = 0.9
        strict = semantic.extract(DOC)
    finally:
        semantic.min_confidence = old
    assert strict and all(m.confidence >= 0.9 for m in strict)
    assert {m.skill_id for m in strict} <= {m.skill_id for m in default}
    assert len(strict) < len(default)


def test_candidate_spans() -> None:
    text = "Knowledge of relational databases, cloud computing (AWS) and the Python language."
    spans = [text[a:b] for a, b in candidate_spans(text)]
    assert "relational databases" in spans and "cloud computing" in spans and "Python" in spans
    assert not any(s.startswith(("of ", "and ", "the ")) for s in spans)
    assert not any(s.endswith((" of", " and", " the")) for s in spans)
    assert not any("," in s or "(" in s for s in spans)  # never crosses punctuation


def test_tiny_taxonomy_without_model() -> None:
    tax = pd.DataFrame({
        "skill_id": ["esco:1", "onet:python"], "label": ["Python (computer programming)", "Python"],
        "source": ["esco", "onet_tech"], "aliases": [["Python (computer programming)", "Python"], ["Python"]],
        "description": ["", ""], "esco_uri": ["u", None], "same_as": [None, "esco:1"],
    })
    x = OfflineExtractor(tax)
    assert [(m.skill_id, m.evidence) for m in x.extract("We use Python daily.")] == [("esco:1", "Python")]
    assert x.rank("We use Python daily.", 5)[0][0] == "esco:1"
    y = OfflineExtractor(tax, canonical=False)
    assert {m.skill_id for m in y.extract("We use Python daily.")} == {"esco:1", "onet:python"}
