"""The one registry of supported upload formats: file extension -> parser format.

Both the inbox scan (which files become documents) and the parser (which reader opens them) read this table,
so a format added here is accepted everywhere at once and the two lists cannot drift apart again. The README's
format list is checked against it (tests/domain/test_inbox.py): add a format here, then name it there.
"""

from __future__ import annotations

from types import MappingProxyType

__all__ = ["FORMAT_BY_EXTENSION", "SUPPORTED_EXTENSIONS", "format_for", "supported_list"]

# Extension (lower case, with the dot) -> parser format ("pdf" | "docx" | "html" | "txt").
FORMAT_BY_EXTENSION = MappingProxyType(
    {
        ".pdf": "pdf",
        ".docx": "docx",
        ".html": "html",
        ".htm": "html",
        ".txt": "txt",
        ".text": "txt",
        ".md": "txt",  # Markdown is read as plain text: its markup words carry no skills
    }
)
SUPPORTED_EXTENSIONS: frozenset[str] = frozenset(FORMAT_BY_EXTENSION)


def format_for(name: str) -> str | None:
    """The parser format of a file name by its extension (case-insensitive), or None when unsupported."""
    dot = name.rfind(".")
    if dot <= name.rfind("/"):
        return None
    return FORMAT_BY_EXTENSION.get(name[dot:].casefold())


def supported_list() -> str:
    """The extensions as shown in messages, e.g. '.docx, .htm, .html, .md, .pdf, .text, .txt'."""
    return ", ".join(sorted(SUPPORTED_EXTENSIONS))
