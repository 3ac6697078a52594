"""Error kinds and the per-item error shared by every module of the domain package.

An :class:`ItemError` describes why *one* item (a file, a row, a request) could not be processed. The Dagster
layer records it in ``item_failures`` and carries on with the other items; ``transient`` tells it whether a
retry may succeed.
"""

from __future__ import annotations

import zipfile
from enum import StrEnum

__all__ = ["ErrorKind", "ItemError", "classify_exception"]


class ErrorKind(StrEnum):
    FILE_NOT_FOUND = "file_not_found"
    INVALID_FORMAT = "invalid_format"
    TOO_LARGE = "too_large"
    NO_TEXT = "no_extractable_text"
    MODEL_ERROR = "model_error"
    TIMEOUT = "timeout"
    DATABASE_ERROR = "database_error"
    INVALID_INPUT = "invalid_input"
    CONTENT_CHANGED = "content_changed"  # file rewritten after the inbox registered it


class ItemError(Exception):
    """A failure of one item, with a machine-readable kind and a human message."""

    kind: ErrorKind
    message: str
    transient: bool

    def __init__(self, kind: ErrorKind, message: str, *, transient: bool = False) -> None:
        super().__init__(kind, message)
        self.kind = ErrorKind(kind)
        self.message = message
        self.transient = transient

    def __str__(self) -> str:
        return f"{self.kind.value}: {self.message}"

    def __repr__(self) -> str:
        return f"ItemError({self.kind.value!r}, {self.message!r}, transient={self.transient})"

    def __reduce__(self) -> tuple[object, ...]:
        # Exceptions with keyword-only arguments do not pickle by default (needed for multiprocess executors).
        return (_rebuild_item_error, (self.kind.value, self.message, self.transient))


def _rebuild_item_error(kind: str, message: str, transient: bool) -> ItemError:
    return ItemError(ErrorKind(kind), message, transient=transient)


# Class names of database driver / ORM exceptions, matched without importing those libraries
# (sqlalchemy.exc.OperationalError, psycopg.OperationalError, sqlite3.OperationalError, ...).
_DB_CLASS_NAMES = frozenset(
    {
        "OperationalError",
        "InterfaceError",
        "DisconnectionError",
        "IntegrityError",
        "ProgrammingError",
        "DatabaseError",
        "PoolTimeout",
        "SerializationFailure",
        "DeadlockDetected",
        "SQLAlchemyError",
    }
)
# Of those, the ones a retry can fix (lost connection, pool exhausted, serialisation conflict, lock timeout).
_DB_TRANSIENT_NAMES = frozenset(
    {
        "OperationalError",
        "InterfaceError",
        "DisconnectionError",
        "PoolTimeout",
        "SerializationFailure",
        "DeadlockDetected",
        "TimeoutError",
    }
)
_DB_MODULES = frozenset({"sqlalchemy", "psycopg", "psycopg2", "sqlite3", "asyncpg", "psycopg_pool"})
# HTTP / API client exceptions (httpx, openai) that a retry can fix.
_NET_TRANSIENT_NAMES = frozenset(
    {
        "ConnectError",
        "ReadTimeout",
        "ConnectTimeout",
        "WriteTimeout",
        "PoolTimeout",
        "RemoteProtocolError",
        "APIConnectionError",
        "APITimeoutError",
        "RateLimitError",
        "InternalServerError",
    }
)


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def classify_exception(exc: BaseException) -> ItemError:
    """Map an arbitrary exception to an :class:`ItemError` (an ItemError is returned unchanged)."""
    if isinstance(exc, ItemError):
        return exc
    module = (type(exc).__module__ or "").split(".")[0]
    names = {cls.__name__ for cls in type(exc).__mro__}
    if module in _DB_MODULES or names & _DB_CLASS_NAMES:
        transient = bool(names & _DB_TRANSIENT_NAMES)
        return ItemError(ErrorKind.DATABASE_ERROR, _describe(exc), transient=transient)
    if module not in ("builtins", "zipfile") and names & _NET_TRANSIENT_NAMES:
        kind = ErrorKind.TIMEOUT if "Timeout" in type(exc).__name__ else ErrorKind.MODEL_ERROR
        return ItemError(kind, _describe(exc), transient=True)
    if isinstance(exc, FileNotFoundError | IsADirectoryError | NotADirectoryError):
        name = getattr(exc, "filename", None)
        what = "is a directory" if isinstance(exc, IsADirectoryError) else "not found"
        return ItemError(ErrorKind.FILE_NOT_FOUND, f"file {what}: {name}" if name else _describe(exc))
    if isinstance(exc, PermissionError):
        name = getattr(exc, "filename", None)
        return ItemError(ErrorKind.FILE_NOT_FOUND, f"permission denied: {name}" if name else _describe(exc))
    if isinstance(exc, MemoryError):
        return ItemError(ErrorKind.TOO_LARGE, "out of memory while processing the item", transient=False)
    if isinstance(exc, TimeoutError):
        return ItemError(ErrorKind.TIMEOUT, _describe(exc), transient=True)
    if isinstance(exc, UnicodeDecodeError):
        message = f"invalid {exc.encoding} at byte {exc.start:,}: {exc.reason}"
        return ItemError(ErrorKind.INVALID_FORMAT, message)
    if isinstance(exc, zipfile.BadZipFile | zipfile.LargeZipFile):
        return ItemError(ErrorKind.INVALID_FORMAT, f"not a valid zip archive: {exc}")
    if isinstance(exc, ConnectionError):
        return ItemError(ErrorKind.MODEL_ERROR, _describe(exc), transient=True)
    if isinstance(exc, ValueError):
        return ItemError(ErrorKind.INVALID_INPUT, _describe(exc))
    if isinstance(exc, OSError):
        return ItemError(ErrorKind.INVALID_INPUT, _describe(exc), transient=True)
    return ItemError(ErrorKind.INVALID_INPUT, _describe(exc))
