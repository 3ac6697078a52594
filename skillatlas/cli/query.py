"""``skillatlas search`` and ``skillatlas match`` subcommands.

Wire-up (cli.py)::

    from skillatlas.cli import query as query_cli
    query_cli.register(subparsers)          # adds "search" and "match"
    args = parser.parse_args(); return args.func(args)   # handlers return an exit code

Locations:
* search index: env ``SKILLATLAS_INDEX_DIR`` (default ``<repo>/.dagster/search_index``)
* warehouse: env ``SKILLATLAS_WAREHOUSE_URL`` (SQLAlchemy URL, default
  ``sqlite:///<repo>/.dagster/warehouse.sqlite``), table ``course_occupation_scores`` with the columns of
  :func:`skillatlas.score.alignment.alignment_scores` (``course_id`` holds document ids).

Exit codes: 0 ok (including "no results"), 1 missing index / table / course, 2 bad arguments.
"""

from __future__ import annotations

import argparse
import difflib
import functools
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from skillatlas.cli.args import bounded_int
from skillatlas.index.search import KINDS, MAX_LIMIT, IndexNotFoundError, SearchIndex

__all__ = [
    "SCORES_TABLE",
    "cmd_match",
    "cmd_search",
    "default_index_dir",
    "default_warehouse_url",
    "fetch_matches",
    "register",
]

SCORES_TABLE = "course_occupation_scores"
MAX_MATCHES = 200  # course_occupation_scores keeps the top 200 occupations per course
SCORE_SCALES = {
    "rrf": "score = reciprocal rank fusion of the full-text (BM25) and semantic (cosine) rankings, "
    "sum of 1/(60 + rank): at most 2/61 = 0.033 (first in both); it orders hits, it is not a similarity",
    "bm25": "score = BM25 full-text relevance (0 and up, unbounded; compare within one search only)",
    "cosine": "score = cosine similarity of the query and document embeddings (-1 to 1; higher is closer)",
}
_HINT = "run `make run` first"


def _repo_root() -> Path:
    try:
        from skillatlas.paths import REPO_ROOT

        return REPO_ROOT
    except ImportError:  # pragma: no cover - paths.py is part of the package
        return Path(__file__).resolve().parents[1]


def default_index_dir() -> Path:
    from skillatlas.settings import load_settings

    settings = load_settings()
    return settings.index_dir or settings.artifacts_dir / "search_index"


def default_warehouse_url() -> str:
    from skillatlas.paths import default_warehouse_url as url

    return url()


class QueryError(Exception):
    """A user-facing error (printed without a traceback)."""


def register(subparsers: Any) -> None:
    """Add ``search`` and ``match`` to an ``argparse`` subparsers object."""
    s = subparsers.add_parser(
        "search", help="full-text + semantic search over courses, jobs, occupations and skills"
    )
    s.add_argument("query", help="free text (operators and field syntax are treated as plain words)")
    s.add_argument("--kind", choices=KINDS, default=None, help="only this kind of document")
    s.add_argument("--limit", type=bounded_int(1, MAX_LIMIT), default=10,
                   help=f"number of hits, 1-{MAX_LIMIT} (default 10)")
    s.add_argument("--json", action="store_true", help="print JSON instead of a table")
    s.add_argument("--no-semantic", dest="semantic", action="store_false",
                   help="BM25 only (skip embedding the query)")
    s.add_argument("--index-dir", type=Path, default=None, help="override SKILLATLAS_INDEX_DIR")
    s.set_defaults(func=cmd_search)

    m = subparsers.add_parser("match", help="top occupations for a course, with shared skills and gaps")
    m.add_argument("course_id", help="the course document id (doc_id)")
    m.add_argument("--limit", type=bounded_int(1, MAX_MATCHES), default=10,
                   help=f"number of occupations, 1-{MAX_MATCHES} (default 10)")
    m.add_argument("--json", action="store_true", help="print JSON instead of a table")
    m.add_argument("--warehouse-url", default=None, help="override SKILLATLAS_WAREHOUSE_URL")
    m.set_defaults(func=cmd_match)


def _error(message: str, *, code: int = 1) -> int:
    """Print ``error: <message>`` on stderr; return the exit code ``code``."""
    print(f"error: {message}", file=sys.stderr)
    return code


def _limited_command(
    command: Callable[[argparse.Namespace, TextIO], int],
) -> Callable[[argparse.Namespace, TextIO | None], int]:
    """A command with ``--limit`` that writes to ``out`` (stdout when None): a limit below 1 is an error (exit 2)
    before the command runs (argparse bounds it; a caller building the namespace itself may not)."""

    @functools.wraps(command)
    def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
        if args.limit <= 0:
            return _error("--limit must be positive", code=2)
        return command(args, out or sys.stdout)

    return run


# ---------------------------------------------------------------- search
def _embed_query(query: str, dim: int | None) -> Any:
    if dim is None:
        return None
    try:
        from skillatlas.extract.embeddings import MiniLMEmbedder

        vec = MiniLMEmbedder().encode([query])[0]
    except Exception as exc:  # model unavailable: degrade to BM25
        print(f"note: semantic search unavailable ({exc}); using full text only", file=sys.stderr)
        return None
    return vec if len(vec) == dim else None


@_limited_command
def cmd_search(args: argparse.Namespace, out: TextIO) -> int:
    index_dir = args.index_dir or default_index_dir()
    try:
        index = SearchIndex.open(index_dir)
    except IndexNotFoundError:
        return _error(f"no search index at {index_dir}; {_HINT} (or set SKILLATLAS_INDEX_DIR)")
    qv = _embed_query(args.query, index.vector_dim) if args.semantic else None
    hits = index.search(args.query, kind=args.kind, limit=args.limit, query_vector=qv)
    if args.json:
        json.dump([h.__dict__ for h in hits], out, ensure_ascii=False, indent=2)
        out.write("\n")
        return 0
    if not hits:
        out.write("no results\n")
        return 0
    out.write(f"{SCORE_SCALES[hits[0].score_kind]}\n")
    for i, h in enumerate(hits, start=1):
        out.write(f"{i:>3}. [{h.kind}] {h.title}  ({h.doc_key}, {h.score_kind} {h.score:.4f})\n")
        if h.snippet:
            out.write(f"     {h.snippet}\n")
    return 0


# ---------------------------------------------------------------- match
def _engine(url: str) -> Any:
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    u = make_url(url)
    if u.drivername.startswith("sqlite") and u.database not in (None, "", ":memory:"):
        if not Path(u.database).exists():  # do not let sqlite create an empty file
            raise QueryError(f"warehouse {u.database} does not exist yet; {_HINT}")
    return create_engine(url)


def fetch_matches(url: str, course_id: str, limit: int = 10) -> list[dict[str, Any]]:
    """Top ``limit`` rows of the scores table for ``course_id`` (best rank first, one per target)."""
    from sqlalchemy import inspect, text
    from sqlalchemy.exc import SQLAlchemyError

    engine = _engine(url)
    try:
        if not inspect(engine).has_table(SCORES_TABLE):
            raise QueryError(f"table {SCORES_TABLE} does not exist yet in the warehouse; {_HINT}")
        with engine.connect() as conn:
            rows = conn.execute(
                text(f"SELECT * FROM {SCORES_TABLE} WHERE course_id = :cid ORDER BY score DESC, rank ASC"),
                {"cid": course_id},
            ).mappings().all()
            if not rows:
                ids = [r[0] for r in conn.execute(text(f"SELECT DISTINCT course_id FROM {SCORES_TABLE}"))]
                close = difflib.get_close_matches(course_id, [str(i) for i in ids], n=5, cutoff=0.5)
                hint = f"; did you mean: {', '.join(close)}" if close else ""
                raise QueryError(f"no scores for course {course_id!r} ({len(ids)} courses scored){hint}")
    except SQLAlchemyError as exc:
        raise QueryError(f"warehouse query failed: {exc.__class__.__name__}: {exc}") from exc
    finally:
        engine.dispose()
    seen: set[str] = set()
    result: list[dict[str, Any]] = []
    for r in rows:
        d = dict(r)
        key = str(d.get("target_id"))
        if key in seen:  # the same course scored in several batches: keep its best row per target
            continue
        seen.add(key)
        result.append(d)
        if len(result) >= limit:
            break
    return result


def _occupation_titles(codes: Sequence[str]) -> dict[str, str]:
    try:
        from skillatlas.reference.sources import load_onet_occupations

        occ = load_onet_occupations()
        titles = dict(zip(occ["soc_code"].astype(str), occ["title"].astype(str), strict=True))
    except Exception:
        return {}
    return {c: titles[c] for c in codes if c in titles}


@_limited_command
def cmd_match(args: argparse.Namespace, out: TextIO) -> int:
    url = args.warehouse_url or default_warehouse_url()
    try:
        rows = fetch_matches(url, args.course_id, args.limit)
    except QueryError as exc:
        return _error(str(exc))
    titles = _occupation_titles([str(r["target_id"]) for r in rows])
    keep = ["target_id", "score", "overlap_score", "semantic_score", "rank", "tier", "shared_skills",
            "gap_skills"]
    records: list[dict[str, Any]] = [
        {k: r.get(k) for k in keep} | {"title": titles.get(str(r["target_id"]), "")} for r in rows
    ]
    if args.json:
        json.dump({"course_id": args.course_id, "matches": records}, out, ensure_ascii=False, indent=2,
                  default=str)
        out.write("\n")
        return 0
    out.write(f"Top occupations for course {args.course_id}\n")
    for i, r in enumerate(records, start=1):
        title = f" {r['title']}" if r["title"] else ""
        overlap, semantic = float(r["overlap_score"] or 0), float(r["semantic_score"] or 0)
        out.write(f"{i:>3}. [{r['tier']}] {r['target_id']}{title}  score {float(r['score'] or 0.0):.3f}"
                  f" (overlap {overlap:.3f}, semantic {semantic:.3f})\n")
        if r["shared_skills"]:
            out.write(f"     shared: {r['shared_skills']}\n")
        if r["gap_skills"]:
            out.write(f"     gaps:   {r['gap_skills']}\n")
    return 0
