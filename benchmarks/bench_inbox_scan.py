"""Inbox sensor tick cost at scale: one JSON line.

Builds a temporary inbox of N tiny files (default 100,000, in folders of 1,000) and a SQLite warehouse whose
manifest already registers them (rows written directly, as earlier ticks would have: hashing 100,000 files once
is not what is measured), then times, wall and CPU seconds of this process:
- `steady_tick_s`: a tick with all N files registered and nothing new (median of 3) — the cost every minute;
- `new_files_tick_s`: a tick that finds M new files (default 10,000) beside the N registered ones;
- `scan_only_s`: the directory walk alone (stat per entry), to show where the steady tick's time goes.

    PYTHONPATH=. .venv/bin/python benchmarks/bench_inbox_scan.py [--files 100000] [--new 10000]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import dagster as dg
import pandas as pd

warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.PreviewWarning)


def write_files(root: Path, start: int, count: int, prefix: str) -> dict[str, str]:
    """Write the files; return relpath -> sha256 of the bytes written."""
    digests = {}
    for i in range(start, start + count):
        folder = root / "jobs" / f"{prefix}{i // 1000:04d}"
        if i % 1000 == 0 or i == start:
            folder.mkdir(parents=True, exist_ok=True)
        data = f"Job posting {prefix}{i}\nPython and SQL.\n".encode()
        (folder / f"posting-{i:07d}.txt").write_bytes(data)
        digests[f"jobs/{folder.name}/posting-{i:07d}.txt"] = hashlib.sha256(data).hexdigest()
    return digests


def timed(fn):  # type: ignore[no-untyped-def]
    wall, cpu = time.perf_counter(), time.process_time()
    value = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--new", type=int, default=10_000)
    args = parser.parse_args()

    from assets.partitions import upload_batches
    from resources.inbox import InboxResource
    from resources.warehouse import WarehouseResource, dispose_engines
    from sensors import inbox_sensor
    from skillatlas.ingest.inbox import document_id, scan_inbox
    from skillatlas.store.tables import MANIFEST_COLUMNS

    work = Path(tempfile.mkdtemp(prefix="bench_inbox_"))
    try:
        inbox = work / "inbox"
        create_s, _, digests = timed(lambda: write_files(inbox, 0, args.files, "a"))
        warehouse = WarehouseResource(url=f"sqlite:///{work / 'warehouse.sqlite'}")
        # the reference gate only looks for the taxonomy table: a stand-in lets ingest requests through
        warehouse.append_rows("skill_taxonomy", pd.DataFrame({"skill_id": ["s1"], "label": ["python"]}))
        scan_s, scan_cpu, scan = timed(lambda: scan_inbox(inbox, max_file_bytes=10_000_000))
        batches = [f"b20260101-000000-{i // 100 % 1000:03d}-{i // 100000:06x}" for i in range(args.files)]
        manifest = pd.DataFrame(
            {
                "batch_id": batches,
                "doc_id": [document_id(digests[e.relpath]) for e in scan.entries],
                "relpath": [e.relpath for e in scan.entries],
                "kind": "job",
                "sha256": [digests[e.relpath] for e in scan.entries],
                "size_bytes": [e.size_bytes for e in scan.entries],
                "mtime_ns": [e.mtime_ns for e in scan.entries],
                "registered_at": "2026-01-01T00:00:00+00:00",
            },
            columns=MANIFEST_COLUMNS,
        )
        warehouse.append_rows("upload_manifest", manifest)
        resources = {"inbox": InboxResource(path=str(inbox), quiet_seconds=0), "warehouse": warehouse}
        with dg.instance_for_test() as instance:
            instance.add_dynamic_partitions(upload_batches.name, sorted(set(batches)))

            def tick() -> dg.SensorResult:
                with dg.build_sensor_context(instance=instance, resources=resources) as context:
                    result = inbox_sensor(context)
                for request in result.dynamic_partitions_requests or []:
                    instance.add_dynamic_partitions(upload_batches.name, list(request.partition_keys))
                return result

            steady = [timed(tick) for _ in range(3)]
            assert all(not r.run_requests for _, _, r in steady), "a steady tick requested runs"
            write_files(inbox, args.files, args.new, "b")
            new_s, new_cpu, new = timed(tick)
            registered = len(warehouse.read_table("upload_manifest")) - args.files
        dispose_engines()
        print(
            json.dumps(
                {
                    "benchmark": "inbox_scan",
                    "registered_files": args.files,
                    "new_files": args.new,
                    "create_files_s": round(create_s, 1),
                    "scan_only_s": round(scan_s, 3),
                    "scan_only_cpu_s": round(scan_cpu, 3),
                    "steady_tick_s": round(statistics.median(t for t, _, _ in steady), 3),
                    "steady_tick_cpu_s": round(statistics.median(c for _, c, _ in steady), 3),
                    "new_files_tick_s": round(new_s, 2),
                    "new_files_tick_cpu_s": round(new_cpu, 2),
                    "new_files_registered": registered,
                    "new_files_run_requests": len(new.run_requests),
                    "load_average_1min": round(os.getloadavg()[0], 1),
                }
            )
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
