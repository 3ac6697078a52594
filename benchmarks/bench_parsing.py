"""Parsing throughput: parse N generated documents of each format; print one JSON line.

python benchmarks/bench_parsing.py [--n 40]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from skillatlas.ingest.parsing import parse_document  # noqa: E402
from tests.support.bad_files import GOOD_GENERATORS, make_good_pdf  # noqa: E402


def _generate(directory: Path, fmt: str, n: int) -> list[Path]:
    paths = []
    for i in range(n):
        if fmt == "pdf":
            path, _ = make_good_pdf(directory, name=f"doc{i}.pdf", pages=3)
        else:
            path, _ = GOOD_GENERATORS[fmt](directory)
            path = path.rename(directory / f"doc{i}{path.suffix}")
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=40, help="documents per format")
    args = parser.parse_args()
    by_format: dict[str, float] = {}
    total_docs = 0
    total_seconds = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in ("pdf", "docx", "html", "txt"):
            directory = Path(tmp) / fmt
            directory.mkdir()
            paths = _generate(directory, fmt, args.n)
            parse_document(paths[0])  # warm-up (imports)
            start = time.perf_counter()
            chars = 0
            for path in paths:
                chars += len(parse_document(path).text)
            elapsed = time.perf_counter() - start
            assert chars > 0
            by_format[fmt] = round(len(paths) / elapsed, 1)
            total_docs += len(paths)
            total_seconds += elapsed
    print(
        json.dumps(
            {
                "benchmark": "parsing",
                "docs_per_s": round(total_docs / total_seconds, 1),
                "by_format": by_format,
                "n_per_format": args.n,
            }
        )
    )


if __name__ == "__main__":
    main()
