"""The learned skill-span detector: features, labels, training, decoding, storage, and the shipped file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from skillatlas.extract.span_tagger import (
    SpanTagger,
    TaggedSpan,
    default_span_tagger_path,
    piece_features,
    piece_labels,
    train_tagger,
)


def _tagger(probabilities: np.ndarray | None = None, threshold: float = 0.5) -> SpanTagger:
    rng = np.random.default_rng(0)
    t = SpanTagger(rng.standard_normal((12, 4)).astype(np.float32), np.zeros(4, np.float32),
                   rng.standard_normal((4, 3)).astype(np.float32), np.zeros(3, np.float32), context=1,
                   model_version="m@1", threshold=threshold, info={"recipe": "test"})
    if probabilities is not None:
        t.probabilities = lambda hidden: probabilities  # type: ignore[method-assign]
    return t


def test_piece_features_hold_each_piece_and_its_neighbours() -> None:
    h = np.arange(12, dtype=np.float32).reshape(3, 4)
    x = piece_features(h, 1)
    assert x.shape == (3, 12)
    np.testing.assert_array_equal(x[1], np.concatenate([h[1], h[0], h[2]]))
    np.testing.assert_array_equal(x[0, 4:8], 0)  # nothing before the first piece
    np.testing.assert_array_equal(x[2, 8:], 0)  # nothing after the last
    assert piece_features(h[:1], 2).shape == (1, 20)


def test_piece_labels_mark_first_and_inner_pieces_of_each_span() -> None:
    # "[CLS] work closely with stakeholders , python [SEP]"
    offsets = [(0, 0), (0, 4), (5, 12), (13, 17), (18, 30), (30, 31), (32, 38), (0, 0)]
    y = piece_labels(offsets, [(0, 30), (32, 38)])
    assert y.tolist() == [0, 1, 2, 2, 2, 0, 1, 0]


def _probs(inside: list[float], b_first: list[bool] | None = None) -> np.ndarray:
    b_first = b_first or [False] * len(inside)
    rows = []
    for p, b in zip(inside, b_first, strict=True):
        rows.append([1 - p, p if b else 0.0, 0.0 if b else p])
    return np.array(rows, dtype=np.float32)


def test_spans_are_runs_above_the_threshold_widened_to_whole_words() -> None:
    text = "Strong communication skills and Python"
    # pieces: [CLS] strong communication skill ##s and python [SEP]
    offsets = [(0, 0), (0, 6), (7, 20), (21, 26), (26, 27), (28, 31), (32, 38), (0, 0)]
    t = _tagger(_probs([0.0, 0.2, 0.9, 0.8, 0.3, 0.1, 0.95, 0.0]))
    got = t.spans(text, np.zeros((8, 4)), offsets, base=100)
    assert [(s.start - 100, s.end - 100) for s in got] == [(7, 27), (32, 38)]  # "skill" widened to "skills"
    assert [text[s.start - 100:s.end - 100] for s in got] == ["communication skills", "Python"]
    assert got[0].probability == pytest.approx(0.85)
    assert t.spans(text, np.zeros((8, 4)), offsets, threshold=0.99) == []


def test_a_confident_b_piece_starts_a_new_span() -> None:
    text = "Java Kotlin"
    offsets = [(0, 0), (0, 4), (5, 11), (0, 0)]
    t = _tagger(_probs([0.0, 0.9, 0.9, 0.0], [False, True, True, False]))
    assert [(s.start, s.end) for s in t.spans(text, np.zeros((4, 4)), offsets)] == [(0, 4), (5, 11)]


def test_save_load_round_trip_and_model_check(tmp_path: Path) -> None:
    t = _tagger(threshold=0.6)
    path = tmp_path / "tagger.npz"
    t.save(path)
    back = SpanTagger.load(path, "m@1")
    assert back is not None and back.threshold == 0.6 and back.info == {"recipe": "test"}
    h = np.random.default_rng(1).standard_normal((5, 4)).astype(np.float32)
    np.testing.assert_allclose(back.probabilities(h), t.probabilities(h), atol=1e-2)  # float16 weights
    assert SpanTagger.load(path, "another-model@2") is None
    assert SpanTagger.load(tmp_path / "missing.npz") is None
    assert back.fingerprint != _tagger(threshold=0.7).fingerprint


def test_training_learns_a_separable_labelling_and_is_deterministic() -> None:
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3000, 8)).astype(np.float32)
    y = np.where(x[:, 0] > 0.5, 1, np.where(x[:, 1] > 0.5, 2, 0)).astype(np.int64)
    w1, b1, w2, b2 = train_tagger(x, y, hidden=16, epochs=20, dropout=0.0, lr=5e-3, seed=7)
    t = SpanTagger(w1, b1, w2, b2, context=0, model_version="m")
    accuracy = float((t.probabilities(x).argmax(axis=1) == y).mean())
    assert accuracy > 0.9
    again = train_tagger(x, y, hidden=16, epochs=20, dropout=0.0, lr=5e-3, seed=7)
    np.testing.assert_array_equal(again[0], w1)


def test_shipped_detector_fits_the_installed_model_and_finds_written_skills() -> None:
    from skillatlas.extract.embeddings import get_embedder

    embedder = get_embedder()
    tagger = SpanTagger.load(default_span_tagger_path(), embedder.model_version)
    assert tagger is not None, "data/reference/span_tagger.npz missing or trained on another model"
    assert "SkillSpan train" in str(tagger.info["recipe"])
    text = "You work closely with stakeholders and have strong experience with Python and SQL."
    _, states = embedder.encode_with_states([text])
    spans = tagger.spans(text, states[0].hidden, states[0].offsets)
    found = [text[s.start:s.end] for s in spans]
    for written in ("stakeholders", "Python", "SQL"):
        assert any(written in f for f in found), found
    assert all(isinstance(s, TaggedSpan) and 0 <= s.probability <= 1 for s in spans)
    assert not any(f.startswith("You") for f in found), found


def test_extractor_links_detected_clauses_and_every_evidence_lies_in_a_detected_span() -> None:
    from skillatlas.extract.offline import get_offline_extractor

    ex = get_offline_extractor()
    assert ex.span_tagger is not None and ":tagger-" in ex.version
    text = ("Responsibilities\nYou will ensure compliance with safety regulations and work closely with "
            "stakeholders.\nSalary: competitive\nLocation: Copenhagen")
    mentions = ex.extract(text)
    assert mentions, "nothing extracted"
    segments = ex._content_segments(text, [(0, len(text))], ex.template_mask(text))
    _, detected, _ = ex.detect_spans(text, segments)
    spans = [(t.start, t.end) for found in detected for t in found]
    for m in mentions:
        assert m.method == "phrase" and len(m.evidence.split()) >= 2 or \
            any(a <= m.start and m.end <= b for a, b in spans), (m.evidence, spans)
        assert "Salary" not in m.evidence and "Location" not in m.evidence
    evidences = " | ".join(m.evidence for m in mentions)
    assert "safety regulations" in evidences and "stakeholders" in evidences, evidences
    # at most skills_per_evidence skills per evidence span, best first
    per_span: dict[tuple[int, int], int] = {}
    for m in mentions:
        for occ in m.occurrences:
            per_span[occ] = per_span.get(occ, 0) + 1
    assert max(per_span.values()) <= ex.skills_per_evidence
