"""Validation of names that come from outside: partition keys and uploaded file names.

Every function returns the validated value (possibly normalised) or raises ``ValueError`` with a message that
names the problem precisely, suitable to show to the person who typed it.
"""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path, PurePosixPath, PureWindowsPath

__all__ = [
    "MAX_PARTITION_KEY_CHARS",
    "MAX_UPLOAD_NAME_BYTES",
    "validate_partition_key",
    "validate_upload_name",
]

MAX_PARTITION_KEY_CHARS = 64
MAX_UPLOAD_NAME_BYTES = 255

_PARTITION_KEY_RE = re.compile(r"[A-Za-z0-9_.\-]+")
_ALLOWED_KEY_CHARS = "letters, digits, '_', '.', '-'"
_WINDOWS_RESERVED = frozenset(
    {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}
)


def _describe_char(ch: str) -> str:
    if ch.isprintable() and not ch.isspace():
        return repr(ch)
    name = unicodedata.name(ch, "")
    return f"U+{ord(ch):04X}" + (f" ({name})" if name else "")


def _first_control_char(s: str) -> str | None:
    for ch in s:
        if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") or ch in "\u2028\u2029":
            return ch
    return None


def validate_partition_key(key: str) -> str:
    """A partition key: 1..64 characters from ``[A-Za-z0-9_.-]``, not starting with a dot."""
    if not isinstance(key, str):
        raise ValueError(f"partition key must be a string, got {type(key).__name__}")
    if not key:
        raise ValueError("partition key is empty: it needs 1 to 64 characters")
    if len(key) > MAX_PARTITION_KEY_CHARS:
        raise ValueError(
            f"partition key is {len(key)} characters long, over the {MAX_PARTITION_KEY_CHARS}-character limit"
        )
    if not _PARTITION_KEY_RE.fullmatch(key):
        bad = next(ch for ch in key if not _PARTITION_KEY_RE.fullmatch(ch))
        raise ValueError(
            f"partition key {key!r} contains {_describe_char(bad)}: allowed characters are "
            f"{_ALLOWED_KEY_CHARS}"
        )
    if key.startswith("."):
        raise ValueError(f"partition key {key!r} starts with '.': keys may not start with a dot")
    return key


def validate_upload_name(name: str, inbox_root: Path | str) -> Path:
    """Validate a file name (or a relative path) of an upload and return its resolved path inside the inbox.

    Rejects: empty names, names over 255 UTF-8 bytes (whole path and each component), control characters,
    absolute paths (POSIX, Windows drive or UNC), ``..`` components, backslashes, Windows-reserved device
    names, hidden files (leading '.'), and any path that resolves (following symlinks) outside ``inbox_root``.
    """
    if not isinstance(name, str):
        raise ValueError(f"upload name must be a string, got {type(name).__name__}")
    if not name or not name.strip():
        raise ValueError("upload name is empty")
    bad = _first_control_char(name)
    if bad is not None:
        raise ValueError(f"upload name {name!r} contains the control character {_describe_char(bad)}")
    size = len(name.encode("utf-8", errors="surrogatepass"))
    if size > MAX_UPLOAD_NAME_BYTES:
        raise ValueError(
            f"upload name is {size} bytes long in UTF-8, over the {MAX_UPLOAD_NAME_BYTES}-byte limit"
        )
    if name.startswith(("/", "\\")) or PureWindowsPath(name).drive or PurePosixPath(name).is_absolute():
        raise ValueError(f"upload name {name!r} is an absolute path: give a name relative to the inbox")
    if "\\" in name:
        raise ValueError(f"upload name {name!r} contains a backslash: use '/' to separate folders")
    parts = PurePosixPath(name).parts
    for part in parts:
        if part == "..":
            raise ValueError(f"upload name {name!r} contains '..': it may not leave the inbox folder")
        if part.startswith("."):
            raise ValueError(f"upload name {name!r} has a hidden component {part!r} (starts with '.')")
        if part != part.strip():
            raise ValueError(
                f"upload name {name!r} has a component with leading or trailing spaces: {part!r}"
            )
        if part.split(".")[0].casefold() in _WINDOWS_RESERVED:
            raise ValueError(f"upload name {name!r} uses the reserved device name {part!r}")
    if name.endswith("/"):
        raise ValueError(f"upload name {name!r} ends with '/': it names a folder, not a file")
    root = Path(inbox_root).resolve()
    target = (root / name).resolve()
    if target == root or not target.is_relative_to(root):
        raise ValueError(
            f"upload name {name!r} resolves to {os.fspath(target)!r}, outside the inbox {os.fspath(root)!r}"
        )
    return target
