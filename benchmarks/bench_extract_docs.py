"""Documents/s of the offline extractor, before vs after, interleaved in one run (prints one JSON line).

Documents: the first ``--n`` SkillSpan dev postings rebuilt as documents (``eval-spans``). ``before`` is the
extractor of git revision ``--before-rev`` (its ``skillatlas/extract/offline.py`` loaded from git into this
process, the rest of the package shared); ``after`` is the working tree's, both with the pipeline's
``max_span_tokens=2`` and their defaults otherwise. ``--pre-issue12`` adds the extractor before issue 12
(``use_structure=False``, no per-evidence cap) of the working tree. The in-process span LRU cache is off for
every extractor (each document pays for its own spans; ``--lru`` turns it on), the variants are interleaved
``--passes`` times and the best pass of each is reported, with the texts the model embedded per document,
next to MiniLM's own rate on the same documents' sentences (``model_sentences_per_s``).

    PYTHONPATH=. .venv/bin/python benchmarks/bench_extract_docs.py [--n 8] [--passes 2] [--before-rev REV]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from skillatlas.settings import load_settings  # noqa: E402

RAW_DATA = load_settings().raw_data or ROOT.parent / "shared" / "data"


def module_at(rev: str, path: str, name: str) -> ModuleType:
    src = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:{path}"], check=True, capture_output=True,
                         text=True).stdout
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as fh:
        fh.write(src)
    spec = importlib.util.spec_from_file_location(name, fh.name)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    os.unlink(fh.name)
    return mod


class _Counting:
    """Wraps the embedder: counts the texts the model is asked to embed."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.texts = inner, 0
        self.model_version = inner.model_version

    def encode(self, texts: Any, batch_size: int = 64) -> Any:
        self.texts += len(texts)
        return self.inner.encode(texts, batch_size=batch_size)

    def encode_with_states(self, texts: Any, batch_size: int = 64) -> Any:
        self.texts += len(texts)
        return self.inner.encode_with_states(texts, batch_size=batch_size)

    def normalise(self, text: str) -> str:
        return str(self.inner.normalise(text))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=8)
    ap.add_argument("--passes", type=int, default=2)
    ap.add_argument("--before-rev", default="01b6469")
    ap.add_argument("--pre-issue12", action="store_true")
    ap.add_argument("--lru", action="store_true", help="keep the in-process span LRU cache on")
    args = ap.parse_args()

    from skillatlas.evaluation.spans import read_skillspan
    from skillatlas.extract.embeddings import get_embedder
    from skillatlas.extract.offline import OfflineExtractor, load_taxonomy_vectors, split_sentences
    from skillatlas.reference.taxonomy import load_taxonomy

    old = module_at(args.before_rev, "skillatlas/extract/offline.py", "offline_before")
    docs = [p.text for p in read_skillspan(RAW_DATA / "job_postings_skillspan" / "dev.json", limit=args.n)]
    taxonomy = load_taxonomy()
    embedder = get_embedder()
    vectors = load_taxonomy_vectors(taxonomy, embedder, write=False)
    counters = {name: _Counting(embedder) for name in ("before", "after", "pre_issue12")}
    variants: dict[str, Any] = {
        "before": old.OfflineExtractor(taxonomy, counters["before"], vectors, max_span_tokens=2),
        "after": OfflineExtractor(taxonomy, counters["after"], vectors, max_span_tokens=2)}
    if args.pre_issue12:
        variants["pre_issue12"] = OfflineExtractor(taxonomy, counters["pre_issue12"], vectors, max_span_tokens=2,
                                                   use_structure=False, skills_per_evidence=0, span_table=False,
                                                   span_tagger=False)
    for ex in variants.values():
        ex.unit_cache_size = 10**6 if args.lru else 0
    sentences = [d[s:e] for d in docs for s, e in split_sentences(d)]
    best = {name: float("inf") for name in [*variants, "raw"]}
    embedded = {name: 0 for name in variants}
    same = True
    for _ in range(args.passes):
        results = {}
        for name, ex in variants.items():
            if args.lru:
                ex._unit_cache.clear()
            counters[name].texts = 0
            t0 = time.perf_counter()
            results[name] = [ex.extract(d) for d in docs]
            best[name] = min(best[name], time.perf_counter() - t0)
            embedded[name] = counters[name].texts
        t0 = time.perf_counter()
        embedder.encode(sentences)
        best["raw"] = min(best["raw"], time.perf_counter() - t0)
        same = same and [[(m.skill_id, m.start, m.end) for m in r] for r in results["before"]] == \
            [[(m.skill_id, m.start, m.end) for m in r] for r in results["after"]]
    out: dict[str, Any] = {"documents": len(docs), "sentences": len(sentences), "before_rev": args.before_rev,
                           "lru": args.lru, "passes": args.passes, "load_avg_1min": os.getloadavg()[0]}
    for name in variants:
        out[f"{name}_documents_per_s"] = round(len(docs) / best[name], 3)
        out[f"{name}_model_texts_per_document"] = round(embedded[name] / len(docs), 1)
    out["speedup"] = round(best["before"] / best["after"], 3)
    out["after_sentences_per_s"] = round(len(sentences) / best["after"], 1)
    out["model_sentences_per_s"] = round(len(sentences) / best["raw"], 1)
    out["same_mentions_before_after"] = same
    print(json.dumps(out))


if __name__ == "__main__":
    main()
