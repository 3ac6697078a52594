"""SQLAlchemy Core helpers that read, delete and append warehouse rows inside a caller's connection.

Bound parameters only, never string formatting. A missing table reads as empty and deletes nothing, so the
first batch of a fresh warehouse needs no migration step; `write_frame` creates a table on first write and
adds a column a newer release writes (nullable: the rows written before it read as NULL).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa

__all__ = ["add_columns", "delete_rows", "key_clauses", "read_rows", "reflect_table", "utc_now_iso", "write_frame"]


def utc_now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def reflect_table(conn: sa.Connection, table: str) -> sa.Table | None:
    if not sa.inspect(conn).has_table(table):
        return None
    return sa.Table(table, sa.MetaData(), autoload_with=conn)


def key_clauses(table: sa.Table, key: Mapping[str, Any]) -> list[Any]:
    """Equality (or IN for collections) clauses, as bound parameters."""
    clauses: list[Any] = []
    for column, value in key.items():
        if isinstance(value, list | tuple | set):
            clauses.append(table.c[column].in_(list(value)))
        else:
            clauses.append(table.c[column] == value)
    return clauses


def read_rows(
    conn: sa.Connection, table: str, key: Mapping[str, Any] | None = None, columns: Sequence[str] | None = None
) -> pd.DataFrame:
    """Rows of `table` matching `key` inside the caller's connection; empty when the table does not exist.
    `columns` reads only those columns (e.g. never the full texts of `document_text` to count documents)."""
    reflected = reflect_table(conn, table)
    if reflected is None:
        return pd.DataFrame(columns=list(columns or []))
    selected = [reflected.c[c] for c in columns] if columns else [reflected]
    return pd.read_sql(sa.select(*selected).where(*key_clauses(reflected, key or {})), conn)


def delete_rows(conn: sa.Connection, table: str, key: Mapping[str, Any]) -> int:
    """Delete the rows matching `key` inside the caller's transaction; returns how many."""
    reflected = reflect_table(conn, table)
    if reflected is None:
        return 0
    return int(conn.execute(sa.delete(reflected).where(*key_clauses(reflected, key))).rowcount or 0)


def _sql_type(values: pd.Series) -> sa.types.TypeEngine[Any]:
    if pd.api.types.is_bool_dtype(values.dtype):
        return sa.Boolean()
    if pd.api.types.is_integer_dtype(values.dtype):
        return sa.BigInteger()
    if pd.api.types.is_float_dtype(values.dtype):
        return sa.Float()
    return sa.Text()


def add_columns(conn: sa.Connection, table: str, columns: Mapping[str, pd.Series]) -> None:
    """Additive migration inside the caller's transaction: each new column is added nullable, typed from its
    values. Only additions: a renamed or retyped column still needs a rebuild (weekly cleanup job)."""
    preparer = conn.dialect.identifier_preparer
    # PostgreSQL: a concurrent batch may add the same column first; SQLite holds the write lock instead
    if_not_exists = "IF NOT EXISTS " if conn.dialect.name == "postgresql" else ""
    for name, values in columns.items():
        column_type = _sql_type(values).compile(dialect=conn.dialect)
        conn.execute(sa.text(
            f"ALTER TABLE {preparer.quote(table)} ADD COLUMN {if_not_exists}{preparer.quote(name)} {column_type}"
        ))


def _check_scalar_columns(table: str, df: pd.DataFrame) -> None:
    for column in df.columns:
        if not pd.api.types.is_object_dtype(df[column].dtype):
            continue
        sample = df[column].dropna().head(50)
        if any(isinstance(v, list | dict | tuple | set) for v in sample):
            raise TypeError(
                f"column '{column}' of table '{table}' holds lists or dicts; encode it (e.g. json.dumps) "
                "before writing it to the warehouse"
            )


def write_frame(conn: sa.Connection, table: str, df: pd.DataFrame) -> None:
    """Append `df` to `table` inside the caller's transaction, creating the table if needed."""
    _check_scalar_columns(table, df)
    existing = reflect_table(conn, table)
    if existing is not None:
        missing = [c for c in df.columns if c not in existing.c]
        if missing:
            add_columns(conn, table, {c: df[c] for c in missing})
    if df.empty and existing is not None:
        return
    # Multi-row INSERTs bind rows x columns parameters: stay under SQLite's 32,766 and PostgreSQL's 65,535.
    chunksize = max(1, min(5000, 30_000 // max(1, len(df.columns))))
    df.to_sql(table, conn, if_exists="append", index=False, chunksize=chunksize, method="multi")
