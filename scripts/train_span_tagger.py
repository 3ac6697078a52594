"""Train ``data/reference/span_tagger.npz``: the skill-span detector of :mod:`skillatlas.extract.span_tagger`.

Recipe (SkillSpan **train** split only; dev is never read): every posting rebuilt as in ``eval-spans``; each
sentence (line) embedded by the project's int8 MiniLM (``MiniLMEmbedder.encode_with_states``); each word piece
labelled O/B/I from the gold skill *and* knowledge spans; features = the piece's state and its neighbours'
(``--context``); a two-layer perceptron trained with Adam (``train_tagger``, fixed seed).

Postings whose ``zlib.crc32(id) % 5 == 0`` are the *held-out* part of train: ``--holdout`` trains on the other
postings only and reports span recall / on-gold share per threshold on the held-out ones (the figures used to
choose the hyper-parameters and, with the extractor, the threshold). Without it the shipped file is trained
on all train postings.

    PYTHONPATH=. .venv/bin/python scripts/train_span_tagger.py [--holdout] [--threshold 0.5] [--out PATH]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from skillatlas.settings import load_settings  # noqa: E402

if TYPE_CHECKING:
    from skillatlas.evaluation.spans import Posting
    from skillatlas.extract.embeddings import MiniLMEmbedder, TokenStates
    from skillatlas.extract.span_tagger import SpanTagger

    Sentence = tuple[str, list[tuple[int, int]], TokenStates]

RAW_DATA = load_settings().raw_data or Path(__file__).resolve().parents[2] / "shared" / "data"
TRAIN = RAW_DATA / "job_postings_skillspan" / "train.json"


def sentences(postings: list[Posting], embedder: MiniLMEmbedder) -> list[Sentence]:
    """(sentence, gold spans in sentence offsets, token states) for every line of every posting."""
    texts: list[str] = []
    golds: list[list[tuple[int, int]]] = []
    for p in postings:
        pos = 0
        spans = sorted(p.skill_spans + p.knowledge_spans)
        for line in p.text.split("\n"):
            end = pos + len(line)
            texts.append(line)
            golds.append([(a - pos, b - pos) for a, b in spans if a >= pos and b <= end])
            pos = end + 1
    _, states = embedder.encode_with_states(texts)
    return list(zip(texts, golds, states, strict=True))


def span_figures(tagger: SpanTagger, data: list[Sentence], thresholds: list[float]) -> list[dict[str, float]]:
    rows = []
    for tau in thresholds:
        n_gold = hit_gold = n_pred = on_gold = 0
        for text, gold, st in data:
            pred = tagger.spans(text, st.hidden, st.offsets, threshold=tau)
            n_gold += len(gold)
            hit_gold += sum(any(a < t.end and t.start < b for t in pred) for a, b in gold)
            n_pred += len(pred)
            on_gold += sum(any(a < t.end and t.start < b for a, b in gold) for t in pred)
        rows.append({"threshold": tau, "span_recall": round(hit_gold / max(n_gold, 1), 4),
                     "on_gold": round(on_gold / max(n_pred, 1), 4), "spans": n_pred})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train", default=str(TRAIN))
    ap.add_argument("--holdout", action="store_true", help="train on 4/5 of train, report the held-out fifth")
    ap.add_argument("--context", type=int, default=1, help="neighbour pieces on each side")
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--dropout", type=float, default=0.3)
    ap.add_argument("--threshold", type=float, default=0.5, help="in-span probability stored with the weights")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()

    from skillatlas.evaluation.spans import is_train_holdout as is_held_out
    from skillatlas.evaluation.spans import read_skillspan
    from skillatlas.extract.embeddings import get_embedder
    from skillatlas.extract.span_tagger import (
        SpanTagger,
        default_span_tagger_path,
        piece_features,
        piece_labels,
        train_tagger,
    )

    embedder = get_embedder()
    postings = read_skillspan(args.train)
    fit = [p for p in postings if not (args.holdout and is_held_out(p.posting_id))]
    held = [p for p in postings if args.holdout and is_held_out(p.posting_id)]
    t0 = time.perf_counter()
    fit_data = sentences(fit, embedder)
    x = np.vstack([piece_features(st.hidden, args.context) for _, _, st in fit_data])
    y = np.concatenate([piece_labels(st.offsets, g) for _, g, st in fit_data])
    print(f"{len(fit)} postings, {len(fit_data)} sentences, {len(y)} pieces (O/B/I {np.bincount(y, minlength=3)}),"
          f" embedded in {time.perf_counter() - t0:.0f} s", flush=True)
    t0 = time.perf_counter()
    w1, b1, w2, b2 = train_tagger(x, y, hidden=args.hidden, epochs=args.epochs, dropout=args.dropout,
                                  seed=args.seed, log=True)
    info: dict[str, object] = {
        "recipe": "SkillSpan train" + (" minus held-out fifth" if args.holdout else ""),
        "postings": len(fit), "pieces": int(len(y)), "context": args.context, "hidden": args.hidden,
        "epochs": args.epochs, "dropout": args.dropout, "seed": args.seed}
    tagger = SpanTagger(w1, b1, w2, b2, args.context, embedder.model_version, args.threshold, info)
    print(f"trained in {time.perf_counter() - t0:.0f} s", flush=True)
    if held:
        rows = span_figures(tagger, sentences(held, embedder), [0.3, 0.4, 0.5, 0.6, 0.7, 0.8])
        info["held_out"] = rows
        for r in rows:
            print(f"held-out ({len(held)} postings) threshold {r['threshold']}: span recall {r['span_recall']}, "
                  f"on gold {r['on_gold']}, {r['spans']} spans")
    out = Path(args.out) if args.out else default_span_tagger_path()
    tagger.save(out)
    print(f"{out}: {out.stat().st_size / 1e6:.2f} MB, fingerprint {tagger.fingerprint}")


if __name__ == "__main__":
    main()
