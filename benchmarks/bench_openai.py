"""Throughput of OpenAIExtractor at a requests-per-minute limit, against the local fake server.

The fake server answers after ``--latency`` seconds and enforces the same RPM limit as the client (token
bucket, 1 s of burst): requests over the limit get 429 + Retry-After. Prints one JSON line with the achieved
request rate versus the limit (goal >= 95 %) and how many 429s reached an item as a failure (goal 0).

    python benchmarks/bench_openai.py                      # 240 RPM, 120 documents (~30 s of work)
    python benchmarks/bench_openai.py --rpm 120 --seconds 20 --latency 1.0 --workers 8
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

CANDIDATES = [("esco:python", "Python"), ("esco:sql", "SQL"), ("esco:git", "Git"), ("onet:tab", "Tableau")]


def main(argv: list[str] | None = None) -> int:
    from skillatlas.extract.llm import LLMConfig, OpenAIExtractor
    from tests.support.fake_openai import FakeOpenAIServer, extract_concurrently

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rpm", type=float, default=240.0, help="limit enforced by client and server")
    ap.add_argument("--seconds", type=float, default=30.0, help="amount of work, in seconds at the limit")
    ap.add_argument("--latency", type=float, default=1.0, help="server latency per request (s)")
    ap.add_argument("--workers", type=int, default=8, help="threads calling extract (share the rate limiter)")
    ap.add_argument("--headroom", type=float, default=LLMConfig.rate_limit_headroom,
                    help="client paces at this fraction of the limit")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.ERROR)

    n_docs = max(2, round(args.rpm * args.seconds / 60.0))
    docs = [(f"doc-{i}", f"Document {i}: Python, SQL and Git in practice.") for i in range(n_docs)]
    config = LLMConfig(model="bench", requests_per_minute=args.rpm, tokens_per_minute=None,
                       rate_limit_headroom=args.headroom,
                       timeout_s=max(10.0, 5 * args.latency))
    with FakeOpenAIServer(latency=args.latency, rpm_limit=args.rpm) as server:
        extractor = OpenAIExtractor(lambda text: CANDIDATES, config, api_key="sk-bench-not-a-key",
                                    base_url=server.base_url)
        t0 = time.monotonic()
        results, failures = extract_concurrently(extractor, docs, args.workers)
        stats = extractor.stats
        wall = time.monotonic() - t0
        requests = server.requests
        extractor.close()

    accepted = sorted(r.time for r in requests if r.status == 200)
    rate = args.rpm / 60.0
    # accepted requests per minute over the sending window (first to last arrival, plus one interval)
    window = (accepted[-1] - accepted[0]) + 1.0 / rate if accepted else float("nan")
    achieved_rpm = len(accepted) / window * 60.0 if accepted else 0.0
    server_429 = sum(1 for r in requests if r.status == 429)
    failed_429 = sum(1 for e in failures.values() if "429" in e.message)
    line = {
        "benchmark": "openai_rate_limit",
        "rpm_limit": args.rpm,
        "latency_s": args.latency,
        "workers": args.workers,
        "documents": n_docs,
        "achieved_rpm": round(achieved_rpm, 1),
        "achieved_ratio": round(achieved_rpm / args.rpm, 4),
        "wall_s": round(wall, 2),
        "wall_rpm": round(len(results) / wall * 60.0, 1),
        "server_429": server_429,
        "429_reaching_items": failed_429,
        "failures": len(failures),
        "requests": stats.requests,
        "retries": stats.retries,
        "client_wait_s": round(stats.rate_limit_wait_s, 1),
        "goal": {"achieved_ratio_min": 0.95, "429_reaching_items": 0},
        "ok": achieved_rpm / args.rpm >= 0.95 and failed_429 == 0 and not failures,
    }
    print(json.dumps(line))
    return 0 if line["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
