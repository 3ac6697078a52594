"""Inbox domain logic: the format registry, the scan's refusals, versions and partition-key shapes."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from skillatlas.ingest import formats, parsing
from skillatlas.ingest.inbox import (
    Registered,
    batch_id_for,
    current_versions,
    is_batch_id,
    plan_tick,
    scan_inbox,
)
from skillatlas.ingest.versions import older_versions

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def test_one_registry_serves_inbox_and_parser(tmp_path: Path) -> None:
    assert parsing.SUPPORTED_EXTENSIONS is formats.SUPPORTED_EXTENSIONS
    assert ".md" in formats.SUPPORTED_EXTENSIONS
    for ext, fmt in formats.FORMAT_BY_EXTENSION.items():
        assert parsing.detect_format(Path(f"x{ext}"), b"plain words") in (fmt, "txt")
        (tmp_path / f"doc{ext.upper()}").write_text("plain words")
    scan = scan_inbox(tmp_path, max_file_bytes=1000)
    assert not scan.refused and len(scan.entries) == len(formats.FORMAT_BY_EXTENSION)


def test_readme_lists_exactly_the_registered_formats() -> None:
    """The README's format list is checked against the registry: adding a format means adding it there too."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    bullet = re.search(r"^- \*\*Formats:\*\*(.*?)(?=^- )", readme, re.S | re.M)
    assert bullet is not None, "README has no '- **Formats:**' bullet"
    listed = set(re.findall(r"`(\.[a-z0-9]+)`", bullet.group(1)))
    assert listed == set(formats.SUPPORTED_EXTENSIONS)


def test_utf16_bom_text_parses(tmp_path: Path) -> None:
    for bom, codec in ((b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        path = tmp_path / f"{codec}.txt"
        path.write_bytes(bom + "Nurse\nPatient care and triage.\n".encode(codec))
        assert parsing.parse_document(path).text == "Nurse\nPatient care and triage."


def test_hash_mismatch_is_content_changed(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("Welder\nArc welding.\n")
    try:
        parsing.parse_document(path, expected_sha256="0" * 64)
    except parsing.ItemError as exc:
        assert exc.kind == "content_changed"
    else:
        raise AssertionError("a mismatching hash must not parse")


def test_unchanged_entries_are_not_hashed_and_new_bytes_are_a_version(tmp_path: Path) -> None:
    (tmp_path / "jobs").mkdir()
    for name in ("a.txt", "b.txt"):
        (tmp_path / "jobs" / name).write_text(f"{name} body")
    entries = scan_inbox(tmp_path, max_file_bytes=1000).entries
    a, b = entries
    registered = {a.relpath: Registered("b1", "sha-a", a.size_bytes, a.mtime_ns)}
    os.remove(a.path)  # were `a` hashed, the plan would report it unreadable
    plan = plan_tick([a, b], registered, {}, now_ns=a.ctime_ns + 10**10, quiet_ns=10**9, now=NOW)
    assert plan.unchanged == 1 and [f.relpath for batch in plan.batches for f in batch.files] == ["jobs/b.txt"]
    (tmp_path / "jobs" / "a.txt").write_text("a body, edited")
    (a2,) = [e for e in scan_inbox(tmp_path, max_file_bytes=1000).entries if e.relpath == "jobs/a.txt"]
    plan = plan_tick([a2], registered, {}, now_ns=a2.ctime_ns + 10**10, quiet_ns=10**9, now=NOW)
    assert plan.superseding == {"jobs/a.txt": "b1"}
    young = plan_tick([a2], registered, {}, now_ns=a2.ctime_ns + 10, quiet_ns=10**9, now=NOW)
    assert young.settling == ["jobs/a.txt"] and not young.batches


def test_current_versions_and_older_versions() -> None:
    manifest = pd.DataFrame(
        {
            "batch_id": ["b1", "b1", "b2"],
            "relpath": ["jobs/a.txt", "jobs/b.txt", "jobs/a.txt"],
            "sha256": ["s1", "s2", "s3"],
            "size_bytes": [1, 2, 3],
            "mtime_ns": [10, 20, None],
            "registered_at": ["2026-01-01", "2026-01-01", "2026-02-01"],
        }
    )
    current = current_versions(manifest)
    assert current["jobs/a.txt"] == Registered("b2", "s3", 3, None)
    text = pd.DataFrame(
        {"batch_id": ["b1", "b1", "b2"], "doc_id": ["d1", "d2", "d3"], "relpath": list(manifest["relpath"])}
    )
    old = older_versions(manifest, text, ["b2"])
    assert old.to_dict("records") == [{"batch_id": "b1", "doc_id": "d1", "relpath": "jobs/a.txt"}]
    assert older_versions(manifest, text, ["b1"]).empty  # an older batch re-run retires nothing newer


def test_batch_ids_and_hostile_keys() -> None:
    assert is_batch_id(batch_id_for([], NOW, 7))
    for key in ("x'; DROP TABLE t; --", "../../etc/passwd", "b20261201-000000-000-abcdef\n", "b" * 5000, "hello", ""):
        assert not is_batch_id(key)
