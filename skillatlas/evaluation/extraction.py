"""Skill-extraction evaluation on Decorte-format CSVs: R-Precision@k and MRR over sentences.

Input CSV: ``sentence,span,sub_span,label`` or ``sentence,label``; ``label`` is an ESCO preferred label, rows
labelled ``UNDERSPECIFIED`` or ``LABEL NOT PRESENT`` are not gold. Gold labels are grouped by sentence
(sentences without any gold label are skipped). For every sentence the extractor's ``rank(sentence, k)`` is
mapped to ESCO preferred labels (O*NET technology skills through ``same_as``; others are dropped) and scored:

* R-Precision@k = |gold ∩ top-k| / min(k, |gold|)
* reciprocal rank = 1 / position of the first gold label (0 when none in the top ``MRR_DEPTH``)

``--part`` splits a validation set deterministically (:func:`split_part`: a hash of the sentence text, so the
split does not depend on file order) into a **tune** part (about half; the only part constants may be fitted
on) and a **heldout** part that estimates unseen-sentence quality; ``--part split`` reports both.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from skillatlas.evaluation.cli import add_eval_parser, metric_lines, read_gold_file
from skillatlas.extract.base import Extractor, Ranker

__all__ = [
    "EvalResult",
    "GoldSentence",
    "NOT_GOLD",
    "evaluate_rankings",
    "evaluate_extractor",
    "read_decorte_csv",
    "reciprocal_rank",
    "register",
    "r_precision_at_k",
    "skill_label_map",
    "split_part",
]

NOT_GOLD = frozenset({"UNDERSPECIFIED", "LABEL NOT PRESENT"})
MRR_DEPTH = 100


@dataclass(frozen=True)
class GoldSentence:
    sentence: str
    labels: tuple[str, ...]  # distinct gold ESCO preferred labels, in file order


@dataclass(frozen=True)
class EvalResult:
    n_sentences: int
    r_precision_at_5: float
    r_precision_at_10: float
    mrr: float
    seconds: float = 0.0

    def as_dict(self) -> dict[str, float | int]:
        return {"n_sentences": self.n_sentences, "r_precision@5": round(self.r_precision_at_5, 4),
                "r_precision@10": round(self.r_precision_at_10, 4), "mrr": round(self.mrr, 4),
                "seconds": round(self.seconds, 2)}


def read_decorte_csv(path: str | Path) -> list[GoldSentence]:
    """Gold labels grouped by sentence (first-appearance order)."""
    groups: dict[str, list[str]] = {}
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        fields = reader.fieldnames or []
        if "sentence" not in fields or "label" not in fields:
            raise ValueError(f"{path}: expected columns 'sentence' and 'label', got {reader.fieldnames}")
        for row in reader:
            sentence = (row.get("sentence") or "").strip()
            label = (row.get("label") or "").strip()
            if not sentence:
                continue
            labels = groups.setdefault(sentence, [])
            if label and label not in NOT_GOLD and label not in labels:
                labels.append(label)
    return [GoldSentence(s, tuple(ls)) for s, ls in groups.items() if ls]


PARTS = ("tune", "heldout")


def split_part(sentence: str) -> str:
    """``"tune"`` or ``"heldout"``: fixed by a hash of the sentence (about half each, order-independent)."""
    digest = hashlib.blake2b(sentence.encode("utf-8"), digest_size=8).digest()
    return PARTS[int.from_bytes(digest, "big") % 2]


def select_part(gold: Sequence[GoldSentence], part: str) -> list[GoldSentence]:
    """The gold sentences of one part (``"all"`` keeps everything)."""
    if part == "all":
        return list(gold)
    if part not in PARTS:
        raise ValueError(f"part must be all, tune or heldout, got {part!r}")
    return [g for g in gold if split_part(g.sentence) == part]


def r_precision_at_k(ranked: Sequence[str], gold: Iterable[str], k: int) -> float:
    """|gold ∩ ranked[:k]| / min(k, |gold|) (0.0 when there is no gold)."""
    gold_set = set(gold)
    if not gold_set or k <= 0:
        return 0.0
    top: list[str] = []
    for label in ranked:  # duplicates count once
        if label not in top:
            top.append(label)
        if len(top) == k:
            break
    return len(gold_set.intersection(top)) / min(k, len(gold_set))


def reciprocal_rank(ranked: Sequence[str], gold: Iterable[str]) -> float:
    gold_set = set(gold)
    seen: list[str] = []
    for label in ranked:
        if label in seen:
            continue
        seen.append(label)
        if label in gold_set:
            return 1.0 / len(seen)
    return 0.0


def evaluate_rankings(gold: Sequence[GoldSentence], ranked_labels: Sequence[Sequence[str]],
                      seconds: float = 0.0) -> EvalResult:
    """Mean R-Precision@5/@10 and MRR given one ranked label list per gold sentence."""
    if len(gold) != len(ranked_labels):
        raise ValueError("one ranking per sentence expected")
    n = len(gold)
    if n == 0:
        return EvalResult(0, 0.0, 0.0, 0.0, seconds)
    rp5 = sum(r_precision_at_k(r, g.labels, 5) for g, r in zip(gold, ranked_labels, strict=True)) / n
    rp10 = sum(r_precision_at_k(r, g.labels, 10) for g, r in zip(gold, ranked_labels, strict=True)) / n
    mrr = sum(reciprocal_rank(r, g.labels) for g, r in zip(gold, ranked_labels, strict=True)) / n
    return EvalResult(n, rp5, rp10, mrr, seconds)


def skill_label_map(taxonomy: pd.DataFrame) -> dict[str, str]:
    """skill_id -> ESCO preferred label (O*NET technology skills via ``same_as``; unmapped ones absent)."""
    esco = taxonomy[taxonomy["source"] == "esco"]
    labels = dict(zip(esco["skill_id"], esco["label"], strict=True))
    out = dict(labels)
    if "same_as" in taxonomy:
        for sid, sa in zip(taxonomy["skill_id"], taxonomy["same_as"], strict=True):
            if isinstance(sa, str) and sa in labels:
                out[sid] = labels[sa]
    return out


def _ranking_of(extractor: Extractor, sentence: str, depth: int) -> list[str]:
    """skill ids ranked for one sentence: ``rank`` when the extractor is a :class:`Ranker`, else ``extract``
    order."""
    if isinstance(extractor, Ranker):
        return [sid for sid, _ in extractor.rank(sentence, depth)]
    return [m.skill_id for m in extractor.extract(sentence)]


def evaluate_extractor(extractor: Extractor, gold: Sequence[GoldSentence], label_of: dict[str, str], *,
                       depth: int = MRR_DEPTH, progress: Callable[[int], None] | None = None) -> EvalResult:
    """Rank every gold sentence with ``extractor`` and score it against the gold ESCO labels."""
    t0 = time.perf_counter()
    rankings = []
    for i, g in enumerate(gold):
        ids = _ranking_of(extractor, g.sentence, depth)
        rankings.append([label_of[sid] for sid in ids if sid in label_of])
        if progress is not None:
            progress(i + 1)
    return evaluate_rankings(gold, rankings, time.perf_counter() - t0)


# ---------------------------------------------------------------------------------------------------- CLI
class ExtractorUnavailable(RuntimeError):
    """The requested extractor cannot be built (missing module, API key, ...)."""


def build_cli_extractor(kind: str, max_span_tokens: int | None = None, *, semantic: bool = True) -> Extractor:
    """The extractor of ``--extractor kind``, built like the pipeline's (:func:`build_extractor`, the same
    settings): only the kind, the span window and phrase-only come from the command line."""
    import os

    from skillatlas.extract.factory import build_extractor
    from skillatlas.extract.offline import MAX_SPAN_TOKENS
    from skillatlas.settings import load_settings

    try:
        settings = load_settings(extractor=kind, semantic=semantic,
                                 max_span_tokens=max_span_tokens or MAX_SPAN_TOKENS)
        # the API key is checked before anything expensive is loaded
        return build_extractor(settings, compute_vectors=True, api_key=os.environ.get("OPENAI_API_KEY", "").strip(),
                               base_url=os.environ.get("OPENAI_BASE_URL", "").strip() or None)
    except (ValueError, RuntimeError, OSError) as exc:
        raise ExtractorUnavailable(f"--extractor {kind}: {exc}") from exc


def _cmd_eval_extraction(args: argparse.Namespace) -> int:
    from skillatlas.reference.taxonomy import load_taxonomy

    try:
        path, gold = read_gold_file(args.file, read_decorte_csv, (ValueError, UnicodeDecodeError, csv.Error))
        extractor = build_cli_extractor(args.extractor, args.max_span_tokens)
    except (ExtractorUnavailable, ValueError) as exc:  # GoldFileError is a ValueError
        print(f"error: {exc}", file=sys.stderr)
        return 2
    label_of = skill_label_map(load_taxonomy())
    parts = list(PARTS) if args.part == "split" else [args.part]
    for part in parts:
        result = evaluate_extractor(extractor, select_part(gold, part), label_of)
        payload = {"file": str(path), "extractor": args.extractor, "part": part, **result.as_dict(),
                   "version": extractor.version}
        if args.json:
            print(json.dumps(payload))
        else:
            print(f"{path.name} [{part}]: {result.n_sentences} sentences, extractor={args.extractor}")
            print(metric_lines([("R-Precision@5", result.r_precision_at_5),
                                ("R-Precision@10", result.r_precision_at_10), ("MRR", result.mrr)]))
            print(f"  ({result.seconds:.1f} s)")
    return 0


def register(subparsers: Any) -> None:
    """Add ``eval-extraction`` to the ``skillatlas`` console script."""
    p = add_eval_parser(subparsers, "eval-extraction", help="R-Precision@5/@10 and MRR on a Decorte-format CSV",
                        description=__doc__, file_help="CSV with sentence,span,sub_span,label or sentence,label",
                        max_span_default=None,
                        max_span_help="offline: longest sentence window embedded (1-4; default 4; the pipeline "
                                      "uses 2)")
    p.add_argument("--json", action="store_true", help="print one JSON line per part")
    p.add_argument("--part", choices=["all", "tune", "heldout", "split"], default="all",
                   help="fixed half of the sentences: tune (fit constants here), heldout (the estimate), "
                        "split (both, one after the other)")
    p.set_defaults(func=_cmd_eval_extraction)
