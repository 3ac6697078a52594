"""Upload inbox: compare the inbox with the manifest, refuse bad entries once, cut new content into batches.

Pure functions (no Dagster): the inbox sensor calls `scan_inbox` and `plan_tick`, writes what they decide and
registers the batches as dynamic partitions. Documents are `courses/...` (syllabi) or `jobs/...` (job
descriptions) by their top-level folder; anything else is kind "unknown" and is still parsed and extracted.

Detection is a comparison, not a watermark: every tick lists the inbox (one `stat` per entry, no reads) and
compares each path's (size, mtime) with the manifest's current version of that path. Only entries that differ
(new paths, changed files, entries never seen) are hashed, so a tick over 100,000 registered files costs a
directory walk plus one manifest read, and a file copied with an old mtime (`cp -p`, `rsync -a`, unzip) is
found like any other. A file is registered only once quiet: its size and mtime unchanged for the quiet period,
measured on max(mtime, ctime) — any write, truncate, `utime` (as `cp -p` does at the end) or rename moves the
ctime, which user space cannot set back — and unchanged while it was hashed.

Identity: a document is its path. New content at a registered path is a new *version* that supersedes the old
one; the same content under another path than the one holding it now is a re-upload, recorded, not ingested.
Every entry that cannot become a document (symlink out of the inbox or in a loop, FIFO/device/socket,
unreadable, name that is not UTF-8, over the size limit — checked before any byte is read — hidden or partial
file, unsupported type, re-upload) yields one `Refusal`; the caller records it once per path and reason.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import stat
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pandas as pd

from skillatlas.ingest.formats import format_for, supported_list
from skillatlas.ingest.validation import validate_partition_key, validate_upload_name

KIND_BY_FOLDER = {"courses": "course", "jobs": "job"}
MAX_BATCH_SIZE = 100
PARTIAL_SUFFIXES = (".part", ".tmp", ".crdownload", ".partial")
DEFAULT_QUIET_SECONDS = 10.0
BATCH_ID_RE = re.compile(r"b\d{8}-\d{6}-\d{3}-[0-9a-f]{6}")

# Refusal kinds (the `reason_kind` column of the skipped-uploads table).
HIDDEN = "hidden"
PARTIAL = "partial_upload"
SYMLINK_OUTSIDE = "symlink_outside_inbox"
SYMLINK_LOOP = "symlink_loop"
SYMLINK_BROKEN = "symlink_broken"
SYMLINK_DIR = "symlink_to_folder"
NOT_REGULAR = "not_a_regular_file"
UNREADABLE = "unreadable"
BAD_NAME = "bad_name"
TOO_LARGE = "too_large"
UNSUPPORTED = "unsupported_type"
DUPLICATE = "duplicate"


@dataclass(frozen=True)
class Entry:
    """A candidate file as listed (no byte read yet)."""

    relpath: str  # POSIX path relative to the inbox root
    path: str  # absolute (a str: a Path per entry costs measurably at 100,000 entries)
    size_bytes: int
    mtime_ns: int
    ctime_ns: int


@dataclass(frozen=True)
class InboxFile:
    """A quiet, hashed file ready to register."""

    relpath: str
    size_bytes: int
    mtime_ns: int
    sha256: str
    kind: str


@dataclass(frozen=True)
class Refusal:
    relpath: str  # printable: bytes that are not UTF-8 are shown as \\xNN
    reason_kind: str
    reason: str
    size_bytes: int = 0
    mtime_ns: int = 0
    ctime_ns: int = 0
    sha256: str | None = None


@dataclass(frozen=True)
class Registered:
    """The manifest's current version of a path."""

    batch_id: str
    sha256: str
    size_bytes: int
    mtime_ns: int | None  # None for rows written before the manifest recorded mtimes


@dataclass(frozen=True)
class Batch:
    batch_id: str
    files: tuple[InboxFile, ...]


@dataclass
class ScanResult:
    entries: list[Entry] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)


@dataclass
class TickPlan:
    batches: list[Batch] = field(default_factory=list)
    superseding: dict[str, str] = field(default_factory=dict)  # relpath -> batch id of the version it replaces
    touched: list[tuple[str, str, int, int]] = field(default_factory=list)  # (batch, relpath, size, mtime): same bytes
    refused: list[Refusal] = field(default_factory=list)
    settling: list[str] = field(default_factory=list)  # changed within the quiet period: looked at next tick
    unchanged: int = 0


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def document_id(sha256: str) -> str:
    """Id of one document *version*: its content. The document itself is its path (`relpath`)."""
    return f"doc-{sha256[:16]}"


def kind_of(relpath: str) -> str:
    top = relpath.split("/", 1)[0]
    return KIND_BY_FOLDER.get(top, "unknown")


def is_batch_id(key: str) -> bool:
    """True for keys shaped like the ids `batch_id_for` makes (and valid partition keys)."""
    try:
        validate_partition_key(key)
    except ValueError:
        return False
    return BATCH_ID_RE.fullmatch(key) is not None


def printable_name(name: str) -> str:
    """A file name safe to store and show: undecodable bytes (surrogate escapes) become \\xNN."""
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        return os.fsencode(name).decode("utf-8", errors="backslashreplace")


def _is_utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def scan_inbox(root: Path, *, max_file_bytes: int) -> ScanResult:
    """List `root` without following folder symlinks: candidate files, and refusals for everything else.

    Never raises for one entry (a loop, a name, a permission): only a missing inbox root is an error.
    Costs one `lstat` per entry (plus one `stat` per symlink); no file is opened.
    """
    root = root.resolve()
    if not root.is_dir():
        raise FileNotFoundError(f"inbox folder {root} does not exist")
    result = ScanResult()
    for rel, dir_entry in _walk(root, "", result):
        result_item = _classify(root, rel, dir_entry, max_file_bytes)
        if isinstance(result_item, Refusal):
            result.refused.append(result_item)
        elif result_item is not None:
            result.entries.append(result_item)
    result.entries.sort(key=lambda e: e.relpath)
    return result


def _walk(root: Path, prefix: str, result: ScanResult) -> Iterator[tuple[str, os.DirEntry[str]]]:
    try:
        with os.scandir(root / prefix if prefix else root) as it:
            children = list(it)
    except OSError as exc:
        reason = f"folder cannot be listed: {exc.strerror}"
        result.refused.append(Refusal(printable_name(prefix or "."), UNREADABLE, reason))
        return
    for child in children:
        rel = f"{prefix}/{child.name}" if prefix else child.name
        try:
            is_dir = child.is_dir(follow_symlinks=False)
        except OSError:
            is_dir = False
        if not is_dir:
            yield rel, child
            continue
        if not _is_utf8(child.name):
            result.refused.append(Refusal(printable_name(rel), BAD_NAME, "folder name is not valid UTF-8; rename it"))
        elif child.name.startswith("."):
            continue  # hidden folders (.git, .snapshot, rsync/unzip work dirs) are not uploads: not descended
        else:
            yield from _walk(root, rel, result)


def _classify(root: Path, rel: str, entry: os.DirEntry[str], max_file_bytes: int) -> Entry | Refusal | None:
    try:
        lst = entry.stat(follow_symlinks=False)
    except OSError as exc:
        return Refusal(printable_name(rel), UNREADABLE, f"cannot stat: {exc.strerror}")
    size, mtime, ctime = lst.st_size, lst.st_mtime_ns, lst.st_ctime_ns
    if not _is_utf8(rel):
        return Refusal(printable_name(rel), BAD_NAME, "file name is not valid UTF-8; rename it", size, mtime, ctime)
    name = entry.name
    if name.startswith("."):
        return Refusal(rel, HIDDEN, "hidden file (name starts with '.')", size, mtime, ctime)
    if name.casefold().endswith(PARTIAL_SUFFIXES):
        return Refusal(rel, PARTIAL, "partial upload (never completed)", size, mtime, ctime)
    path = entry.path
    st = lst
    if stat.S_ISLNK(lst.st_mode):
        try:
            st = os.stat(path)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                return Refusal(rel, SYMLINK_LOOP, "symlink loop", size, mtime)
            return Refusal(rel, SYMLINK_BROKEN, f"symlink target cannot be read: {exc.strerror}", size, mtime)
        target = Path(os.path.realpath(path))
        if not target.is_relative_to(root):
            return Refusal(rel, SYMLINK_OUTSIDE, "symlink points outside the inbox", size, mtime)
        if stat.S_ISDIR(st.st_mode):
            return Refusal(rel, SYMLINK_DIR, "symlink to a folder (not followed)", size, mtime)
        # a link inside the inbox is judged by its target's size and times
        size, mtime, ctime = st.st_size, st.st_mtime_ns, max(ctime, st.st_ctime_ns)
    if not stat.S_ISREG(st.st_mode):
        return Refusal(rel, NOT_REGULAR, "not a regular file (FIFO, device or socket)", size, mtime)
    if format_for(name) is None:
        ext = name[name.rfind(".") :] if "." in name else "(none)"
        return Refusal(rel, UNSUPPORTED, f"unsupported file type '{ext}' (supported: {supported_list()})", size, mtime)
    if size > max_file_bytes:
        return Refusal(rel, TOO_LARGE, f"file is {size:,} bytes, over the {max_file_bytes:,}-byte limit", size, mtime)
    return Entry(rel, path, size, mtime, ctime)


def plan_tick(
    entries: Iterable[Entry],
    registered: Mapping[str, Registered],
    recorded: Mapping[str, tuple[int, int, int]],
    *,
    now_ns: int,
    quiet_ns: int,
    now: datetime,
    batch_size: int = MAX_BATCH_SIZE,
    inbox_root: Path | None = None,
) -> TickPlan:
    """Decide what this tick registers.

    `registered`: the manifest's current version per path; `recorded`: relpath -> (size, mtime, ctime) of its
    latest skipped-uploads record. An entry whose (size, mtime) matches its registered version, or whose
    (size, mtime, ctime) matches its record (so a `chmod` re-examines an unreadable file), is not looked at
    again (no hash). Others are hashed once quiet and then are: the same bytes as registered (a touch: the manifest's
    mtime is refreshed), a re-upload of content another path holds now, or a new document / new version.
    """
    if not 1 <= batch_size <= MAX_BATCH_SIZE:
        raise ValueError(f"batch_size must be between 1 and {MAX_BATCH_SIZE}, got {batch_size}")
    plan = TickPlan()
    current_owner = {reg.sha256: relpath for relpath, reg in registered.items()}
    fresh: list[InboxFile] = []
    for entry in entries:
        known = registered.get(entry.relpath)
        if known is not None and (known.size_bytes, known.mtime_ns) == (entry.size_bytes, entry.mtime_ns):
            plan.unchanged += 1
            continue
        if recorded.get(entry.relpath) == (entry.size_bytes, entry.mtime_ns, entry.ctime_ns):
            plan.unchanged += 1
            continue
        if now_ns - max(entry.mtime_ns, entry.ctime_ns) < quiet_ns:
            plan.settling.append(entry.relpath)
            continue
        if inbox_root is not None:
            try:
                validate_upload_name(entry.relpath, inbox_root)
            except ValueError as exc:
                plan.refused.append(
                    Refusal(entry.relpath, BAD_NAME, str(exc), entry.size_bytes, entry.mtime_ns, entry.ctime_ns)
                )
                continue
        try:
            digest = file_sha256(Path(entry.path))
            after = os.stat(entry.path)
        except OSError as exc:
            if isinstance(exc, FileNotFoundError):
                continue  # removed since the listing: nothing to register
            plan.refused.append(
                Refusal(
                    entry.relpath, UNREADABLE, f"cannot read: {exc.strerror or exc}",
                    entry.size_bytes, entry.mtime_ns, entry.ctime_ns,
                )
            )
            continue
        if (after.st_size, after.st_mtime_ns) != (entry.size_bytes, entry.mtime_ns):
            plan.settling.append(entry.relpath)  # written to while it was hashed
            continue
        if known is not None and known.sha256 == digest:
            plan.touched.append((known.batch_id, entry.relpath, entry.size_bytes, entry.mtime_ns))
            continue
        owner = current_owner.get(digest)
        if owner is not None and owner != entry.relpath:
            plan.refused.append(
                Refusal(
                    entry.relpath, DUPLICATE, f"same content as {owner} (re-upload; not ingested again)",
                    entry.size_bytes, entry.mtime_ns, entry.ctime_ns, digest,
                )
            )
            continue
        current_owner[digest] = entry.relpath
        if known is not None:
            plan.superseding[entry.relpath] = known.batch_id
        fresh.append(InboxFile(entry.relpath, entry.size_bytes, entry.mtime_ns, digest, kind_of(entry.relpath)))
    for seq, start in enumerate(range(0, len(fresh), batch_size)):
        chunk = tuple(fresh[start : start + batch_size])
        plan.batches.append(Batch(batch_id=batch_id_for(chunk, now, seq), files=chunk))
    return plan


def batch_id_for(files: Sequence[InboxFile], now: datetime, seq: int) -> str:
    """`b<YYYYMMDD>-<HHMMSS>-<seq>-<hash6>`: sortable, valid as a partition key, unique per content."""
    digest = hashlib.sha256("".join(sorted(f.relpath + f.sha256 for f in files)).encode()).hexdigest()[:6]
    return f"b{now:%Y%m%d-%H%M%S}-{seq:03d}-{digest}"


def current_versions(manifest: pd.DataFrame) -> dict[str, Registered]:
    """The latest registration per path from the manifest (by registration time, then batch id)."""
    if manifest.empty:
        return {}
    mtimes = manifest["mtime_ns"] if "mtime_ns" in manifest.columns else pd.Series(None, index=manifest.index)
    latest = manifest.assign(_mtime=mtimes, _order=manifest["registered_at"].astype(str)).sort_values(
        ["_order", "batch_id"], kind="stable"
    ).drop_duplicates("relpath", keep="last")
    # plain lists: iterating pandas (Arrow-backed) columns element by element costs seconds at 100,000 rows
    columns = [latest[c].tolist() for c in ("relpath", "batch_id", "sha256", "size_bytes", "_mtime")]
    return {
        relpath: Registered(batch, sha, int(size), None if mtime is None or mtime != mtime else int(mtime))
        for relpath, batch, sha, size, mtime in zip(*columns, strict=True)
    }


def quiet_refusals(refused: Iterable[Refusal], *, now_ns: int, quiet_ns: int) -> list[Refusal]:
    """Hidden and partial files are how uploaders write (`rsync`'s `.name.XXXXXX`, a browser's `.part`):
    they are refused only once they have been left alone for the quiet period, so a transfer in flight
    leaves no record and an abandoned one leaves exactly one."""
    return [
        r for r in refused
        if r.reason_kind not in (HIDDEN, PARTIAL) or now_ns - max(r.mtime_ns, r.ctime_ns) >= quiet_ns
    ]
