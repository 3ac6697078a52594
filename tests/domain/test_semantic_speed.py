"""Semantic stage speed-ups (issue 12, item 6): span table, LRU hits, exact skill pre-selection."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from skillatlas.extract.embeddings import MiniLMEmbedder, get_embedder
from skillatlas.extract.offline import (
    _DROPPED,
    OfflineExtractor,
    get_offline_extractor,
    load_taxonomy_vectors,
    split_sentences,
)
from skillatlas.extract.span_table import SpanVectorTable, save_span_table

DOC = (
    "Senior Data Engineer\n"
    "We are looking for an engineer to build data pipelines in Python and SQL.\n"
    "You will work with Apache Spark and Kubernetes, and collaborate on machine learning models.\n"
    "Strong stakeholder management and risk assessment skills; experience with data analysis."
)


class CountingEmbedder:
    """The real embedder, counting the texts the model is asked for."""

    def __init__(self, inner: MiniLMEmbedder) -> None:
        self.inner = inner
        self.model_version = inner.model_version
        self.asked: list[str] = []

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        self.asked.extend(texts)
        return self.inner.encode(texts, batch_size=batch_size)

    def normalise(self, text: str) -> str:
        return self.inner.normalise(text)


@pytest.fixture(scope="module")
def semantic() -> OfflineExtractor:
    return get_offline_extractor(semantic=True)


def _unit(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def test_span_table_roundtrip(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    vecs = _unit(rng.normal(size=(3, 384)))
    path = tmp_path / "spans.npz"
    save_span_table(path, ["python", "data analysis", "sql"], vecs, "model-a")
    table = SpanVectorTable.load(path, "model-a", str.lower)
    assert table is not None and len(table) == 3
    got = table.get("Data Analysis")  # looked up by the normalised form
    assert got is not None
    assert np.allclose(got, vecs[1], atol=2e-3) and abs(float(np.linalg.norm(got)) - 1.0) < 1e-5
    assert table.get("java") is None
    assert SpanVectorTable.load(path, "model-b", str.lower) is None  # another model: ignored
    assert SpanVectorTable.load(tmp_path / "missing.npz", "model-a", str.lower) is None


def test_normalise_matches_tokenizer() -> None:
    emb = get_embedder()
    assert emb.normalise("Café PYTHON") == "cafe python"
    # equal normalised forms give equal token ids, hence equal embeddings
    assert emb.tokenize(["Café PYTHON"]) == emb.tokenize([emb.normalise("Café PYTHON")])


def test_table_hits_skip_the_model_and_match_it(semantic: OfflineExtractor, tmp_path: Path) -> None:
    emb = get_embedder()
    words = ["Python", "data analysis", "stakeholder management"]
    path = tmp_path / "spans.npz"
    save_span_table(path, [emb.normalise(w) for w in words], emb.encode(words), emb.model_version)
    table = SpanVectorTable.load(path, emb.model_version, emb.normalise)
    assert table is not None
    counting = CountingEmbedder(emb)
    vectors = load_taxonomy_vectors(semantic.taxonomy, emb, write=False)
    ex = OfflineExtractor(semantic.taxonomy, counting, vectors, max_span_tokens=2,  # type: ignore[arg-type]
                          span_table=table)
    ex.unit_cache_size = 0
    texts = ["PYTHON", "data analysis", "risk assessment", "stakeholder management"]
    got = ex._encode_units(texts)
    assert counting.asked == ["risk assessment"]  # only the string missing from the table
    assert np.allclose(got, emb.encode(texts), atol=2e-3)


def test_lru_hit_returns_identical_vectors(semantic: OfflineExtractor) -> None:
    emb = get_embedder()
    counting = CountingEmbedder(emb)
    vectors = load_taxonomy_vectors(semantic.taxonomy, emb, write=False)
    ex = OfflineExtractor(semantic.taxonomy, counting, vectors, max_span_tokens=2,  # type: ignore[arg-type]
                          span_table=False)
    first = ex._encode_units(["risk assessment", "data pipelines", "risk assessment"])
    assert counting.asked == ["risk assessment", "data pipelines"]  # repeated strings embedded once
    again = ex._encode_units(["data pipelines", "risk assessment"])
    assert counting.asked == ["risk assessment", "data pipelines"]  # second call: all from the cache
    assert np.array_equal(again[0], first[1]) and np.array_equal(again[1], first[0])
    assert np.array_equal(first[0], first[2])


def test_skill_preselection_is_exact(semantic: OfflineExtractor) -> None:
    """With a floor, every skill that can reach it gets exactly the score of the full computation."""
    floor = semantic.score_floor()
    assert floor is not None and abs(float(semantic.calibrate(floor)) - semantic.min_confidence) < 1e-9
    phrase = semantic.phrase_mentions(DOC)
    sentences = split_sentences(DOC)
    full = semantic._score_sentences(DOC, sentences, phrase)
    saved = semantic.span_prefilter_min_cos
    semantic.span_prefilter_min_cos = -1.0  # the span prefilter (lossy, tested below) off
    try:
        fast = semantic._score_sentences(DOC, sentences, phrase, floor)
    finally:
        semantic.span_prefilter_min_cos = saved
    assert len(full) == len(fast) == len(sentences)
    n_kept = 0
    for f, q in zip(full, fast, strict=True):
        reach = f.score >= floor
        n_kept += int(reach.sum())
        assert np.allclose(q.score[reach], f.score[reach], atol=1e-5)
        assert (q.score[~reach] < floor + 1e-5).all()
        assert set(np.nonzero(reach)[0]) <= set(q.columns.tolist())
        assert len(q.columns) < len(f.columns)  # the point: far fewer span-by-skill products
    assert n_kept > 0


def test_prefilter_drops_only_two_token_spans_far_from_reachable_skills(semantic: OfflineExtractor) -> None:
    table = semantic.span_table
    if table is None or table.get("statistical") is None or table.get("analysis") is None or \
            table.get("statistical analysis") is not None:
        pytest.skip("needs the shipped span table ('statistical', 'analysis', but not 'statistical analysis')")
    # the last span is not composable (its words are not in the table): always embedded
    texts = ["We need statistical analysis", "statistical analysis", "qwzx blorf"]
    later = {"statistical analysis": [1], "qwzx blorf": [2]}
    none = np.array([], dtype=np.int64)
    emb = np.zeros((3, 384), dtype=np.float32)
    penalty = np.zeros(3, dtype=np.float32)
    # the prefilter gets each sentence's reachable-skill vectors
    semantic._prefilter_spans(emb, later, [(0, 3)], lambda k: semantic.vectors[none], penalty)  # no reachable skill
    assert penalty[1] == _DROPPED and not emb[1].any()
    assert penalty[2] == 0.0 and abs(float(np.linalg.norm(emb[2])) - 1.0) < 1e-4
    emb = np.zeros((3, 384), dtype=np.float32)
    penalty = np.zeros(3, dtype=np.float32)
    assert semantic.vectors is not None
    everything = np.arange(len(semantic.vectors))
    semantic._prefilter_spans(emb, later, [(0, 3)], lambda k: semantic.vectors[everything], penalty)  # close to a skill
    assert penalty[1] == 0.0
    assert np.allclose(emb[1], get_embedder().encode([texts[1]])[0], atol=1e-5)
