"""Upload inbox: find new files, recognise re-uploads by content hash, cut them into batches.

Pure functions (no Dagster): the inbox sensor calls `scan_inbox` and `plan_batches`, then registers the
batches as dynamic partitions. Documents are `courses/...` (syllabi) or `jobs/...` (job descriptions) by
their top-level folder; anything else is kind "unknown" and is still parsed and extracted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

SUPPORTED_SUFFIXES = (".pdf", ".docx", ".html", ".htm", ".txt")
KIND_BY_FOLDER = {"courses": "course", "jobs": "job"}
MAX_BATCH_SIZE = 100


@dataclass(frozen=True)
class InboxFile:
    relpath: str  # POSIX path relative to the inbox root
    size_bytes: int
    mtime_ns: int
    sha256: str
    kind: str


@dataclass(frozen=True)
class Batch:
    batch_id: str
    files: tuple[InboxFile, ...]


@dataclass
class BatchPlan:
    batches: list[Batch] = field(default_factory=list)
    duplicates: list[InboxFile] = field(default_factory=list)  # identical content already registered
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (relpath, reason)


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def document_id(sha256: str) -> str:
    """Stable id of a document: its content, so re-ingesting never creates a second identity."""
    return f"doc-{sha256[:16]}"


def kind_of(relpath: str) -> str:
    top = relpath.split("/", 1)[0]
    return KIND_BY_FOLDER.get(top, "unknown")


def scan_inbox(root: Path, *, after: tuple[int, str] | None = None) -> tuple[list[InboxFile], list[tuple[str, str]]]:
    """Files under `root` newer than the `(mtime_ns, relpath)` watermark, oldest first.

    Hidden files and partial uploads (`.part`, `.tmp`, names starting with '.') are ignored. Symlinks
    that resolve outside the inbox are skipped with a reason, so an upload cannot read other files.
    """
    root = root.resolve()
    found: list[InboxFile] = []
    skipped: list[tuple[str, str]] = []
    if not root.is_dir():
        raise FileNotFoundError(f"inbox folder {root} does not exist")
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if any(part.startswith(".") for part in rel.split("/")) or path.suffix in (".part", ".tmp"):
            continue
        if path.is_symlink():
            target = path.resolve()
            if not target.is_relative_to(root):
                skipped.append((rel, "symlink points outside the inbox"))
                continue
        if not path.is_file():
            continue
        if path.suffix.lower() not in SUPPORTED_SUFFIXES:
            skipped.append((rel, f"unsupported file type '{path.suffix or '(none)'}'"))
            continue
        stat = path.stat()
        if after is not None and (stat.st_mtime_ns, rel) <= after:
            continue
        found.append(
            InboxFile(
                relpath=rel,
                size_bytes=stat.st_size,
                mtime_ns=stat.st_mtime_ns,
                sha256=file_sha256(path),
                kind=kind_of(rel),
            )
        )
    found.sort(key=lambda f: (f.mtime_ns, f.relpath))
    return found, skipped


def batch_id_for(files: Sequence[InboxFile], now: datetime, seq: int) -> str:
    """`b<YYYYMMDD>-<HHMMSS>-<seq>-<hash6>`: sortable, valid as a partition key, unique per content."""
    digest = hashlib.sha256("".join(sorted(f.sha256 for f in files)).encode()).hexdigest()[:6]
    return f"b{now:%Y%m%d-%H%M%S}-{seq:03d}-{digest}"


def plan_batches(
    files: Iterable[InboxFile],
    known_hashes: set[str],
    *,
    now: datetime,
    batch_size: int = MAX_BATCH_SIZE,
) -> BatchPlan:
    """Drop files whose content is already registered (re-uploads) and cut the rest into batches."""
    if not 1 <= batch_size <= MAX_BATCH_SIZE:
        raise ValueError(f"batch_size must be between 1 and {MAX_BATCH_SIZE}, got {batch_size}")
    plan = BatchPlan()
    fresh: list[InboxFile] = []
    seen = set(known_hashes)
    for item in files:
        if item.sha256 in seen:
            plan.duplicates.append(item)
            continue
        seen.add(item.sha256)
        fresh.append(item)
    for seq, start in enumerate(range(0, len(fresh), batch_size)):
        chunk = tuple(fresh[start : start + batch_size])
        plan.batches.append(Batch(batch_id=batch_id_for(chunk, now, seq), files=chunk))
    return plan
