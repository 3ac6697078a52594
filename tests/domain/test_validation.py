from __future__ import annotations

import os
from pathlib import Path

import pytest

from skillatlas.ingest.validation import validate_partition_key, validate_upload_name


# ------------------------------------------------------------------------------ partition keys
@pytest.mark.parametrize("key", ["batch-2024-01-01", "a", "A_b.c-9", "x" * 64, "2024.05"])
def test_valid_partition_keys(key: str) -> None:
    assert validate_partition_key(key) == key


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("a/b", "partition key 'a/b' contains '/': allowed characters are letters, digits, '_', '.', '-'"),
        ("", "partition key is empty"),
        ("x" * 65, "partition key is 65 characters long, over the 64-character limit"),
        (".hidden", "partition key '.hidden' starts with '.'"),
        ("a b", "contains U+0020 (SPACE)"),
        ("caf\u00e9", "contains '\u00e9'"),
        ("a\nb", "contains U+000A"),
        ("..", "starts with '.'"),
        ("a;drop", "contains ';'"),
    ],
)
def test_invalid_partition_keys(key: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        validate_partition_key(key)
    assert message in str(info.value)


def test_partition_key_must_be_a_string() -> None:
    with pytest.raises(ValueError, match="must be a string, got int"):
        validate_partition_key(12)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------- upload names
def test_valid_upload_names(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    assert validate_upload_name("syllabus.pdf", inbox) == (inbox / "syllabus.pdf").resolve()
    assert validate_upload_name("courses/cs101.docx", inbox) == (inbox / "courses" / "cs101.docx").resolve()
    assert validate_upload_name("r\u00e9sum\u00e9 v2.txt", str(inbox)).name == "r\u00e9sum\u00e9 v2.txt"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "upload name is empty"),
        ("/etc/passwd", "is an absolute path"),
        ("C:\\temp\\a.pdf", "is an absolute path"),
        ("\\\\server\\share\\a.pdf", "is an absolute path"),
        ("a\\b.pdf", "contains a backslash"),
        ("../secret.pdf", "contains '..'"),
        ("courses/../../x.pdf", "contains '..'"),
        ("bad\nname.pdf", "control character U+000A"),
        ("tab\tname.pdf", "control character U+0009"),
        ("x" * 252 + ".pdf", "256 bytes long in UTF-8, over the 255-byte limit"),
        ("\u00e9" * 128 + ".txt", "260 bytes long in UTF-8"),
        (".env", "hidden component '.env'"),
        ("CON.txt", "reserved device name"),
        ("folder/", "ends with '/'"),
        (" padded.pdf", "leading or trailing spaces"),
    ],
)
def test_invalid_upload_names(tmp_path: Path, name: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        validate_upload_name(name, tmp_path)
    assert message in str(info.value)


def test_symlink_escape_is_rejected(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    outside = tmp_path / "outside"
    inbox.mkdir()
    outside.mkdir()
    os.symlink(outside, inbox / "link")
    with pytest.raises(ValueError) as info:
        validate_upload_name("link/file.pdf", inbox)
    assert "outside the inbox" in str(info.value)
