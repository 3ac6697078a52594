"""MiniLM embedder: shapes, normalisation, determinism, semantic sanity, taxonomy vector cache."""

from __future__ import annotations

import numpy as np
import pytest

from skillatlas.extract.embeddings import DIM, MiniLMEmbedder, get_embedder


@pytest.fixture(scope="module")
def embedder() -> MiniLMEmbedder:
    return get_embedder()


def test_shapes_and_normalisation(embedder: MiniLMEmbedder) -> None:
    v = embedder.encode(["Python programming", "care for horses", "x " * 600])
    assert v.shape == (3, DIM)
    assert v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert embedder.encode([]).shape == (0, DIM)
    assert embedder.model_version.startswith("all-MiniLM-L6-v2-int8@")


def test_deterministic_and_batch_independent(embedder: MiniLMEmbedder) -> None:
    texts = ["data analysis with SQL", "teach mathematics",
             "a much longer sentence about welding steel pipes"]
    a = embedder.encode(texts, batch_size=1)
    b = embedder.encode(list(reversed(texts)), batch_size=64)[::-1]
    np.testing.assert_allclose(a, b, atol=1e-4)  # padding must not change the pooled vector
    np.testing.assert_array_equal(embedder.encode(texts), embedder.encode(texts))


def test_semantic_sanity(embedder: MiniLMEmbedder) -> None:
    q, web, horses = embedder.encode(["build web pages with HTML and CSS", "web programming",
                                      "care for horses"])
    assert float(q @ web) > float(q @ horses) + 0.2


def test_cached_taxonomy_vectors_match_fresh_embeddings(embedder: MiniLMEmbedder) -> None:
    from skillatlas.extract.offline import default_vectors_path, embed_taxonomy, load_taxonomy_vectors
    from skillatlas.reference.taxonomy import load_taxonomy

    assert default_vectors_path().is_file()
    assert default_vectors_path().stat().st_size < 12_000_000
    tax = load_taxonomy()
    cached = load_taxonomy_vectors(tax)  # no embedder needed: every row must be cached and fresh
    assert cached.shape == (len(tax), DIM)
    np.testing.assert_allclose(np.linalg.norm(cached, axis=1), 1.0, atol=1e-4)
    rows = [0, 1234, len(tax) - 1]
    fresh = embed_taxonomy(tax.iloc[rows], embedder, use_cache=False)
    np.testing.assert_allclose(embed_taxonomy(tax.iloc[rows], embedder), cached[rows], atol=1e-6)
    assert np.all((fresh * cached[rows]).sum(axis=1) > 0.999)


def test_stale_rows_are_recomputed(tmp_path, embedder: MiniLMEmbedder) -> None:
    from skillatlas.extract.offline import load_taxonomy_vectors
    from skillatlas.reference.taxonomy import load_taxonomy

    tax = load_taxonomy().head(3).copy()
    path = tmp_path / "vec.npz"
    first = load_taxonomy_vectors(tax, embedder, path)
    assert path.is_file()
    tax.loc[tax.index[1], "label"] = "care for horses"
    with pytest.raises(RuntimeError):
        load_taxonomy_vectors(tax, None, path)
    second = load_taxonomy_vectors(tax, embedder, path)
    np.testing.assert_allclose(second[[0, 2]], first[[0, 2]], atol=1e-2)
    assert float(second[1] @ first[1]) < 0.99
    np.testing.assert_allclose(load_taxonomy_vectors(tax, None, path), second, atol=1e-2)


def test_small_taxonomy_does_not_touch_shipped_cache(embedder: MiniLMEmbedder) -> None:
    from skillatlas.extract.offline import OfflineExtractor, default_vectors_path
    from skillatlas.reference.taxonomy import load_taxonomy

    path = default_vectors_path()
    before = (path.stat().st_mtime_ns, path.stat().st_size)
    tiny = load_taxonomy().head(2).copy()
    tiny.loc[tiny.index[0], "description"] = "something new"  # stale row: embedded on the fly
    x = OfflineExtractor(tiny, embedder)
    assert x.vectors is not None and x.vectors.shape == (2, 384)
    assert (path.stat().st_mtime_ns, path.stat().st_size) == before
