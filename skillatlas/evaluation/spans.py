"""Span-level evaluation of an extractor on SkillSpan-format job postings (``skillatlas eval-spans``).

SkillSpan (Zhang et al., NAACL 2022) is JSON lines, one sentence per line: ``idx`` (posting id),
``tokens``, ``tags_skill`` and ``tags_knowledge`` (B/I/O). Each posting is rebuilt as one document: tokens
joined by single spaces, sentences by newlines, so every gold span has exact character offsets. The
extractor's ``extract(document)`` mentions are compared with the gold spans by character overlap:

* **skill recall** - share of gold *skill* spans overlapped by at least one mention's evidence;
* **knowledge recall** - the same for gold *knowledge* spans;
* **on-gold share** - share of mentions whose evidence overlaps any gold span (skill or knowledge); the
  complement is what a reader sees as junk.

Overlap rather than exact boundaries because SkillSpan spans are clauses ("work closely with stakeholders")
while a taxonomy match rightly points at part of one; the same rule is applied to every extractor compared.
Tune on ``train``, report ``dev`` (never tuned on).
"""

from __future__ import annotations

import argparse
import bisect
import json
import sys
import time
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skillatlas.evaluation.cli import add_eval_parser, metric_lines, read_gold_file
from skillatlas.extract.base import Extractor

__all__ = ["Posting", "SpanEvalResult", "evaluate_postings", "is_train_holdout", "read_skillspan", "register"]


def is_train_holdout(posting_id: str) -> bool:
    """The fixed held-out fifth of SkillSpan *train* (``zlib.crc32(id) % 5 == 0``): learned parts are trained on
    the other four fifths when extraction constants are tuned on it; dev is never used for either."""
    return zlib.crc32(posting_id.encode()) % 5 == 0


@dataclass(frozen=True)
class Posting:
    posting_id: str
    text: str
    skill_spans: tuple[tuple[int, int], ...]
    knowledge_spans: tuple[tuple[int, int], ...]


@dataclass
class SpanEvalResult:
    n_postings: int
    n_skill_spans: int
    n_knowledge_spans: int
    n_mentions: int
    skill_recall: float
    knowledge_recall: float
    on_gold_share: float
    seconds: float
    junk: Counter[str] = field(default_factory=Counter)  # evidence -> count, mentions on no gold span
    junk_skills: dict[str, Counter[str]] = field(default_factory=dict)  # evidence -> labels stored

    def as_dict(self, top_junk: int = 0) -> dict[str, Any]:
        out: dict[str, Any] = {
            "n_postings": self.n_postings, "n_skill_spans": self.n_skill_spans,
            "n_knowledge_spans": self.n_knowledge_spans, "n_mentions": self.n_mentions,
            "skill_recall": round(self.skill_recall, 4), "knowledge_recall": round(self.knowledge_recall, 4),
            "on_gold_share": round(self.on_gold_share, 4), "seconds": round(self.seconds, 1)}
        if top_junk:
            out["top_off_gold"] = [
                {"evidence": ev, "count": n,
                 "skills": [lab for lab, _ in self.junk_skills.get(ev, Counter()).most_common(3)]}
                for ev, n in self.junk.most_common(top_junk)]
        return out


def _bio_spans(tags: Sequence[str]) -> list[tuple[int, int]]:
    """Token index ranges [i, j) of B/I runs (an I without a B starts a span, as in seqeval's lenient mode)."""
    out: list[tuple[int, int]] = []
    start: int | None = None
    for i, t in enumerate(list(tags) + ["O"]):
        if t == "B" or (t == "I" and start is None):
            if start is not None:
                out.append((start, i))
            start = i
        elif t == "O" and start is not None:
            out.append((start, i))
            start = None
    return out


def read_skillspan(path: str | Path, *, limit: int | None = None) -> list[Posting]:
    """Postings of a SkillSpan JSON-lines file, rebuilt as documents with gold character spans.

    ``limit`` keeps the first N postings (file order), for quick iterations.
    """
    grouped: dict[str, list[dict[str, Any]]] = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            row = json.loads(line)
            key = f"{row.get('source', '')}:{row['idx']}"
            if key not in grouped and limit is not None and len(grouped) >= limit:
                continue
            grouped.setdefault(key, []).append(row)
    postings = []
    for key, rows in grouped.items():
        parts: list[str] = []
        skills: list[tuple[int, int]] = []
        knowledge: list[tuple[int, int]] = []
        pos = 0
        for row in rows:
            toks = [str(t) for t in row["tokens"]]
            starts = []
            at = pos
            for tok in toks:
                starts.append(at)
                at += len(tok) + 1
            ends = [s + len(t) for s, t in zip(starts, toks, strict=True)]
            for tags, sink in ((row["tags_skill"], skills), (row["tags_knowledge"], knowledge)):
                for i, j in _bio_spans(tags):
                    sink.append((starts[i], ends[j - 1]))
            sentence = " ".join(toks)
            parts.append(sentence)
            pos += len(sentence) + 1
        postings.append(Posting(key, "\n".join(parts), tuple(skills), tuple(knowledge)))
    return postings


def _overlaps(spans: Sequence[tuple[int, int]], starts: Sequence[int], a: int, b: int) -> list[int]:
    """Indices of ``spans`` (sorted by start) overlapping [a, b)."""
    hi = bisect.bisect_left(starts, b)
    return [k for k in range(hi) if spans[k][1] > a]


def _mention_spans(mentions: Sequence[Any], occurrences: bool) -> list[tuple[int, int, str]]:
    out = []
    for m in mentions:
        spans = getattr(m, "occurrences", ()) if occurrences else ()
        for a, b in spans or [(m.start, m.end)]:
            out.append((int(a), int(b), str(m.label)))
    return out


def evaluate_postings(extractor: Extractor, postings: Sequence[Posting], *, occurrences: bool = False,
                      progress: Callable[[int], None] | None = None) -> SpanEvalResult:
    """Run ``extractor.extract`` on every posting and score mentions against the gold spans.

    With ``occurrences`` every occurrence a mention lists (``SkillMention.occurrences``) counts as a mention
    (recall and on-gold share); otherwise only each mention's best evidence.
    """
    t0 = time.perf_counter()
    n_skill = n_know = hit_skill = hit_know = n_mentions = on_gold = 0
    junk: Counter[str] = Counter()
    junk_skills: dict[str, Counter[str]] = {}
    for i, p in enumerate(postings):
        mentions = extractor.extract(p.text)
        skills = sorted(p.skill_spans)
        know = sorted(p.knowledge_spans)
        both = sorted(skills + know)
        s_starts = [s for s, _ in skills]
        k_starts = [s for s, _ in know]
        b_starts = [s for s, _ in both]
        got_s: set[int] = set()
        got_k: set[int] = set()
        for a, b, label in _mention_spans(mentions, occurrences):
            got_s.update(_overlaps(skills, s_starts, a, b))
            got_k.update(_overlaps(know, k_starts, a, b))
            n_mentions += 1
            if _overlaps(both, b_starts, a, b):
                on_gold += 1
            else:
                ev = " ".join(p.text[a:b].split())
                ev = ev if len(ev) <= 60 else ev[:57] + "..."
                junk[ev] += 1
                junk_skills.setdefault(ev, Counter())[label] += 1
        n_skill += len(skills)
        n_know += len(know)
        hit_skill += len(got_s)
        hit_know += len(got_k)
        if progress is not None:
            progress(i + 1)
    return SpanEvalResult(
        n_postings=len(postings), n_skill_spans=n_skill, n_knowledge_spans=n_know, n_mentions=n_mentions,
        skill_recall=hit_skill / n_skill if n_skill else 0.0,
        knowledge_recall=hit_know / n_know if n_know else 0.0,
        on_gold_share=on_gold / n_mentions if n_mentions else 0.0,
        seconds=time.perf_counter() - t0, junk=junk, junk_skills=junk_skills)


# ---------------------------------------------------------------------------------------------------- CLI
def _cmd_eval_spans(args: argparse.Namespace) -> int:
    from skillatlas.evaluation.extraction import ExtractorUnavailable, build_cli_extractor

    try:
        path, postings = read_gold_file(args.file, lambda p: read_skillspan(p, limit=args.limit),
                                        (ValueError, KeyError, json.JSONDecodeError),
                                        "{path}: not SkillSpan JSON lines ({exc})")
        extractor = build_cli_extractor(args.extractor, args.max_span_tokens, semantic=not args.phrase_only)
    except (ExtractorUnavailable, ValueError) as exc:  # GoldFileError is a ValueError
        print(f"error: {exc}", file=sys.stderr)
        return 2
    result = evaluate_postings(extractor, postings, occurrences=args.occurrences)
    payload = {"file": str(path), "extractor": args.extractor, "occurrences": args.occurrences,
               **result.as_dict(args.top_junk),
               "version": extractor.version}
    if args.json:
        print(json.dumps(payload))
    else:
        print(f"{path.name}: {result.n_postings} postings, {result.n_skill_spans} skill spans, "
              f"{result.n_knowledge_spans} knowledge spans, {result.n_mentions} mentions")
        print(metric_lines([("skill-span recall", result.skill_recall),
                            ("knowledge-span recall", result.knowledge_recall),
                            ("mentions on gold span", result.on_gold_share)]))
        for row in payload.get("top_off_gold", []):
            print(f"  off-gold {row['count']:4d}x  {row['evidence']!r} -> {'; '.join(row['skills'])}")
        print(f"  ({result.seconds:.1f} s)")
    return 0


def register(subparsers: Any) -> None:
    """Add ``eval-spans`` to the ``skillatlas`` console script."""
    p = add_eval_parser(subparsers, "eval-spans", help="skill/knowledge span recall on SkillSpan-format postings",
                        description=__doc__, file_help="SkillSpan JSON lines (e.g. job_postings_skillspan/dev.json)",
                        max_span_default=2,
                        max_span_help="offline: longest sentence window embedded (1-4; default 2 = the pipeline's)")
    p.add_argument("--limit", type=int, default=None, help="first N postings only (quick runs)")
    p.add_argument("--top-junk", type=int, default=20, help="list the N most frequent off-gold evidences")
    p.add_argument("--phrase-only", action="store_true", help="offline: phrase matching only (no MiniLM)")
    p.add_argument("--occurrences", action="store_true",
                   help="count every occurrence a mention lists, not only its best evidence")
    p.add_argument("--json", action="store_true", help="print one JSON line")
    p.set_defaults(func=_cmd_eval_spans)
