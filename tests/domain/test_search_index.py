from __future__ import annotations

import argparse
import io
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from skillatlas.index import search as search_index
from skillatlas.index.search import IndexNotFoundError, SearchIndex, build_index, query_tokens


def _docs() -> pd.DataFrame:
    rows = [
        ("course:1", "course", "Introduction to Python", "Variables, loops and functions in Python coding."),
        ("course:2", "course", "Financial Accounting", "Balance sheets, ledgers and bookkeeping."),
        ("job:1", "job", "Data Engineer", "Build pipelines with SQL, Python and Spark."),
        ("job:2", "job", "Welder", "MIG and TIG welding of steel structures."),
        ("job:3", "job", "Accountant", "Prepare financial statements and audits."),
        ("15-1252.00", "occupation", "Software Developers", "Design and develop computer applications."),
        ("esco:python", "skill", "Python (computer programming)", "Python is a programming language."),
    ]
    return pd.DataFrame(rows, columns=["doc_key", "kind", "title", "body"])


def _vectors(n: int) -> np.ndarray:
    return np.eye(n, 16, dtype=np.float32)  # orthogonal: doc i is only similar to itself


def test_counts_equal_sources(tmp_path: Path) -> None:
    docs = _docs()
    stats = build_index(docs, tmp_path / "idx", _vectors(len(docs)))
    assert stats.documents == len(docs) and stats.vector_dim == 16
    assert stats.by_kind == docs["kind"].value_counts().to_dict()
    ix = SearchIndex.open(tmp_path / "idx")
    assert ix.count() == len(docs)
    for kind, n in docs["kind"].value_counts().items():
        assert ix.count(str(kind)) == n
    assert ix.count("nope") == 0


def test_bm25_ranking_kind_filter_and_snippet(tmp_path: Path) -> None:
    build_index(_docs(), tmp_path / "idx")
    ix = SearchIndex.open(tmp_path / "idx")
    hits = ix.search("python")
    assert {h.doc_key for h in hits} == {"course:1", "job:1", "esco:python"}
    assert hits[0].doc_key in {"course:1", "esco:python"}  # title matches (boosted) beat body-only
    assert hits[-1].doc_key == "job:1"
    assert all(a.score >= b.score for a, b in zip(hits, hits[1:], strict=False))
    jobs = ix.search("python", kind="job")
    assert [h.doc_key for h in jobs] == ["job:1"]
    assert "Python" in jobs[0].snippet
    assert [h.doc_key for h in ix.search("welders")] == ["job:2"]  # stemming
    assert len(ix.search("python", limit=1)) == 1


@pytest.mark.parametrize(
    "query",
    ['title:"', "a AND OR (", '"', "*", "kind:job", "body:[a TO z]", "((((((((((x", "\\", "python^1000000",
     "-", "+", "~2", "NOT", "", "   ", "😀 ☃", "foo:bar:baz", "'; DROP TABLE docs; --", "a" * 10_000],
)
def test_hostile_queries_do_not_crash(tmp_path_factory: pytest.TempPathFactory, query: str) -> None:
    path = tmp_path_factory.getbasetemp() / "hostile_idx"
    if not path.exists():
        build_index(_docs(), path)
    ix = SearchIndex.open(path)
    hits = ix.search(query)
    assert isinstance(hits, list)
    assert all(h.kind in {"course", "job", "occupation", "skill"} for h in hits)


def test_field_syntax_is_not_interpreted() -> None:
    assert query_tokens('kind:job title:"x" a AND OR (') == ["kind", "job", "title", "x", "a", "and", "or"]


def test_vector_and_hybrid_search(tmp_path: Path) -> None:
    docs = _docs()
    v = _vectors(len(docs))
    build_index(docs, tmp_path / "idx", v)
    ix = SearchIndex.open(tmp_path / "idx")
    # vector only: the doc whose vector equals the query
    only = ix.search("", query_vector=v[3], limit=3)
    assert only[0].doc_key == "job:2" and only[0].score == pytest.approx(1.0)
    assert ix.search("", query_vector=v[3], kind="course", limit=1)[0].kind == "course"
    # hybrid: "python" text hits are course:1, esco:python, job:1; the vector points at job:1,
    # so RRF puts job:1 (in both lists) first
    fused = ix.search("python", query_vector=v[2], limit=3)
    assert fused[0].doc_key == "job:1"
    assert fused[0].score == pytest.approx(1 / 61 + 1 / 63)  # rank 3 in BM25, rank 1 in cosine
    assert fused[0].score_kind == "rrf" and only[0].score_kind == "cosine"
    assert ix.search("python", limit=1)[0].score_kind == "bm25"
    with pytest.raises(ValueError, match="above the maximum"):
        ix.search("python", limit=10**19)
    with pytest.raises(ValueError):
        ix.search("python", query_vector=np.ones(3))


def test_atomic_rebuild_old_readers_keep_their_build(tmp_path: Path) -> None:
    idx = tmp_path / "idx"
    docs = _docs()
    build_index(docs, idx)
    old = SearchIndex.open(idx)
    build_index(docs.iloc[:2], idx)
    new = SearchIndex.open(idx)
    assert old.count() == len(docs) and new.count() == 2
    assert idx.is_symlink() and old.build_dir != new.build_dir
    assert len(old.search("welding")) == 1 and new.search("welding") == []
    for _ in range(3):
        build_index(docs, idx, keep_builds=1)
    builds = [p for p in (tmp_path / ".idx.builds").iterdir()]
    assert len(builds) == 2  # current + 1 kept
    assert SearchIndex.open(idx).count() == len(docs)


def test_failed_build_leaves_current_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    idx = tmp_path / "idx"
    build_index(_docs(), idx)

    def boom(*_a: object, **_k: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(search_index.np, "save", boom)
    with pytest.raises(OSError):
        build_index(_docs().iloc[:1], idx, _vectors(1))
    assert SearchIndex.open(idx).count() == len(_docs())
    assert not [p for p in (tmp_path / ".idx.builds").iterdir() if p.name.startswith("tmp-")]


def test_missing_index_and_duplicates(tmp_path: Path) -> None:
    with pytest.raises(IndexNotFoundError):
        SearchIndex.open(tmp_path / "nothing")
    docs = pd.concat([_docs(), _docs().iloc[:1].assign(title="Python II")], ignore_index=True)
    stats = build_index(docs, tmp_path / "idx")
    assert stats.duplicates_dropped == 1
    ix = SearchIndex.open(tmp_path / "idx")
    assert ix.count() == len(_docs())
    assert [h.title for h in ix.search("python", kind="course")] == ["Python II"]


def test_search_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from skillatlas.cli import query as query_cli

    parser = argparse.ArgumentParser()
    query_cli.register(parser.add_subparsers(dest="cmd"))
    monkeypatch.setenv("SKILLATLAS_INDEX_DIR", str(tmp_path / "idx"))
    args = parser.parse_args(["search", "python"])
    assert args.func(args, io.StringIO()) == 1  # no index yet
    build_index(_docs(), tmp_path / "idx")
    buf = io.StringIO()
    args = parser.parse_args(["search", "python", "--kind", "job", "--json", "--no-semantic"])
    assert args.func(args, buf) == 0
    assert [h["doc_key"] for h in json.loads(buf.getvalue())] == ["job:1"]
    buf = io.StringIO()
    args = parser.parse_args(["search", 'title:" a AND OR (', "--no-semantic"])
    assert args.func(args, buf) == 0
    assert os.environ["SKILLATLAS_INDEX_DIR"].endswith("idx")


def test_search_cli_labels_scores_and_checks_ranges(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from skillatlas.cli import query as query_cli

    parser = argparse.ArgumentParser()
    query_cli.register(parser.add_subparsers(dest="cmd"))
    build_index(_docs(), tmp_path / "idx")
    monkeypatch.setenv("SKILLATLAS_INDEX_DIR", str(tmp_path / "idx"))
    buf = io.StringIO()
    args = parser.parse_args(["search", "python", "--no-semantic"])
    assert args.func(args, buf) == 0
    lines = buf.getvalue().splitlines()
    assert lines[0].startswith("score = BM25 full-text relevance") and ", bm25 " in lines[1]
    for argv, message in (
        (["search", "python", "--limit", "10000000000000000000"], "out of range [1, 10000]"),
        (["search", "python", "--limit", "0"], "out of range [1, 10000]"),
        (["search", "python", "--limit", "ten"], "'ten' is not an integer"),
        (["match", "course:1", "--limit", "-3"], "out of range [1, 200]"),
    ):
        with pytest.raises(SystemExit) as exited:
            parser.parse_args(argv)
        assert exited.value.code == 2 and message in capsys.readouterr().err
