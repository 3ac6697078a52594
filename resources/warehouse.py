"""The warehouse: where every derived table lives, on SQLite (embedded) or PostgreSQL (production).

One SQLAlchemy code path serves both backends. Dagster has no maintained PostgreSQL pandas IO manager,
so `WarehouseIOManager` follows Dagster's own `DbIOManager`/`DbClient` pattern: the client's `connect()`
opens a single transaction in which the IO manager deletes the partition's rows and inserts the new
ones, so a rematerialised partition is replaced atomically — never duplicated, never half-written.
SQL is built with SQLAlchemy Core and bound parameters, never by string formatting.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import dagster as dg
import pandas as pd
import sqlalchemy as sa
from pydantic import Field

from resources.dagster_private import DbClient, DbIOManager, DbTypeHandler, TablePartitionDimension, TableSlice

# The row-level SQL (Core, bound parameters) is domain code shared with skillatlas.store; re-exported here.
from skillatlas.store.sql import (  # noqa: F401
    delete_rows,
    key_clauses,
    read_rows,
    reflect_table,
    utc_now_iso,
    write_frame,
)

_ENGINES: dict[str, sa.Engine] = {}
_ENGINES_LOCK = threading.Lock()


def get_engine(url: str) -> sa.Engine:
    """One pooled engine per URL and process (engines are expensive; connections are not shared)."""
    with _ENGINES_LOCK:
        engine = _ENGINES.get(url)
        if engine is None:
            if url.startswith("sqlite"):
                engine = sa.create_engine(url, connect_args={"timeout": 60})

                @sa.event.listens_for(engine, "connect")
                def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
                    cursor = dbapi_conn.cursor()
                    # WAL lets the UI, sensors and a run read while another run writes.
                    cursor.execute("PRAGMA journal_mode=WAL")
                    cursor.execute("PRAGMA busy_timeout=60000")
                    cursor.close()
            else:
                engine = sa.create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)
            _ENGINES[url] = engine
        return engine


def dispose_engines() -> None:
    with _ENGINES_LOCK:
        for engine in _ENGINES.values():
            engine.dispose()
        _ENGINES.clear()


def redact_url(url: str) -> str:
    """The URL without its password, for logs and metadata."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - a malformed URL must still never be printed verbatim
        return "<unparseable warehouse url>"


def _partition_filter(table: sa.Table, dims: Sequence[TablePartitionDimension]) -> list[Any]:
    clauses: list[Any] = []
    for dim in dims:
        column = table.c[dim.partition_expr]
        if isinstance(dim.partitions, dg.TimeWindow):
            # Daily partitions are stored as ISO date strings: [start, end) compares correctly as text.
            clauses.append(column >= dim.partitions.start.date().isoformat())
            clauses.append(column < dim.partitions.end.date().isoformat())
        else:
            clauses.append(column.in_(list(dim.partitions)))
    return clauses


class SqlAlchemyDbClient(DbClient[sa.Connection]):
    """DbClient for SQLite and PostgreSQL. `connect` is one transaction for delete + insert."""

    def __init__(self, url: str) -> None:
        self.url = url

    @contextmanager
    def connect(self, context: Any, table_slice: TableSlice) -> Iterator[sa.Connection]:  # type: ignore[override]
        with get_engine(self.url).begin() as conn:
            yield conn

    def ensure_schema_exists(self, context: Any, table_slice: TableSlice, connection: sa.Connection) -> None:  # type: ignore[override]
        # Tables live in the connection's default schema on both backends; created on first write.
        return None

    def delete_table_slice(self, context: Any, table_slice: TableSlice, connection: sa.Connection) -> None:  # type: ignore[override]
        table = reflect_table(connection, table_slice.table)
        if table is None:
            return
        clauses = _partition_filter(table, table_slice.partition_dimensions or [])
        statement = sa.delete(table)
        if clauses:
            statement = statement.where(*clauses)
        connection.execute(statement)

    def get_select_statement(self, table_slice: TableSlice) -> str:  # type: ignore[override]
        columns = ", ".join(table_slice.columns) if table_slice.columns else "*"
        text = f"SELECT {columns} FROM {table_slice.table}"
        dims = table_slice.partition_dimensions or []
        if dims:
            text += " WHERE " + " AND ".join(f"{d.partition_expr} in (...)" for d in dims)
        return text  # descriptive only (shown in the UI); queries themselves use SQLAlchemy Core

    def get_table_name(self, table_slice: TableSlice) -> str:  # type: ignore[override]
        return table_slice.table


# ("text": an empty column derived by .map() is float64, which would create a FLOAT column for URLs)
_DTYPES = {"int": "int64", "float": "float64", "bool": "bool", "text": "object"}


def _typed_like(frame: pd.DataFrame, schema: dg.TableSchema) -> pd.DataFrame:
    """An empty frame with the declared column types (columns of other declared types stay as they are)."""
    types = {c.name: _DTYPES[c.type] for c in schema.columns if c.type in _DTYPES and c.name in frame.columns}
    return frame.astype(types) if types else frame


class PandasTypeHandler(DbTypeHandler[pd.DataFrame]):
    def handle_output(
        self, context: dg.OutputContext, table_slice: TableSlice, obj: pd.DataFrame, connection: Any
    ) -> Mapping[str, Any]:
        # lazy: the catalog is asset-facing and imports this module's neighbours
        from assets.catalog import schema_differences, table_preview

        declared = (context.definition_metadata or {}).get("dagster/column_schema")
        if obj.empty and isinstance(declared, dg.TableSchema):
            # An empty frame's columns are untyped: if this write creates the table, its counts would be TEXT
            # for good (SQLite then stores later numbers as text). The declared schema says what they are.
            obj = _typed_like(obj, declared)
        write_frame(connection, table_slice.table, obj)
        if isinstance(declared, dg.TableSchema):
            # the declared schema carries descriptions and allowed values; dtypes ("object") say little
            schema = declared
            differences = schema_differences(declared, [str(c) for c in obj.columns])
            if any(differences.values()):
                context.log.warning(f"table {table_slice.table} differs from its declared schema: {differences}")
        else:
            schema = dg.TableSchema(columns=[dg.TableColumn(name=str(c), type=str(t)) for c, t in obj.dtypes.items()])
        # Dagster gives every partition of a range run this same metadata: there a row count would be the range's
        # total shown on each day (45 days of skill_demand_daily each "3,409 rows"), so it is labelled as such.
        partitions = len(context.asset_partition_keys) if context.has_asset_partitions else 1
        counts: dict[str, Any] = (
            {"dagster/row_count": len(obj)} if partitions <= 1
            else {"range_rows": len(obj), "range_partitions": partitions,
                  "note": f"written by one run over {partitions} partitions: totals of the whole range"}
        )
        return {
            **counts,
            "dagster/column_schema": schema,
            **table_preview(table_slice.table, obj),
        }

    def load_input(self, context: dg.InputContext, table_slice: TableSlice, connection: Any) -> pd.DataFrame:
        table = reflect_table(connection, table_slice.table)
        if table is None:
            raise dg.Failure(
                description=(
                    f"warehouse table '{table_slice.table}' does not exist yet: materialise "
                    f"the upstream asset '{table_slice.table}' first"
                ),
                allow_retries=False,
            )
        columns = [table.c[c] for c in table_slice.columns] if table_slice.columns else [table]
        statement = sa.select(*columns)
        clauses = _partition_filter(table, table_slice.partition_dimensions or [])
        if clauses:
            statement = statement.where(*clauses)
        return pd.read_sql(statement, connection)

    @property
    def supported_types(self) -> Sequence[type[object]]:
        return [pd.DataFrame]


class WarehouseIOManager(dg.ConfigurableIOManagerFactory):
    """Stores each asset's DataFrame in a warehouse table named after the asset.

    Partitioned assets declare `metadata={"partition_expr": "<column>"}`; a partition write replaces the
    partition's rows in one transaction.
    """

    url: str = Field(description="SQLAlchemy URL of the warehouse (sqlite:///... or postgresql+psycopg://...)")

    def create_io_manager(self, context: dg.InitResourceContext) -> DbIOManager:
        return DbIOManager(
            type_handlers=[PandasTypeHandler()],
            db_client=SqlAlchemyDbClient(self.url),
            database="warehouse",
            io_manager_name="WarehouseIOManager",
            default_load_type=pd.DataFrame,
        )


class WarehouseResource(dg.ConfigurableResource):
    """Direct warehouse access for sensors, ledgers and operator jobs (same database as the IO manager)."""

    url: str = Field(description="SQLAlchemy URL of the warehouse")

    @property
    def engine(self) -> sa.Engine:
        return get_engine(self.url)

    def has_table(self, table: str) -> bool:
        with self.engine.connect() as conn:
            return sa.inspect(conn).has_table(table)

    def read_table(
        self, table: str, where: Mapping[str, Any] | None = None, columns: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """Rows of `table` (empty frame when the table does not exist), filtered by equality/IN; only
        `columns` when given."""
        with self.engine.connect() as conn:
            return read_rows(conn, table, where, columns)

    def replace_rows(self, table: str, df: pd.DataFrame, key: Mapping[str, Any]) -> None:
        """Delete the rows matching `key` and insert `df`, in one transaction."""
        with self.engine.begin() as conn:
            delete_rows(conn, table, key)
            write_frame(conn, table, df)

    def append_rows(self, table: str, df: pd.DataFrame) -> None:
        with self.engine.begin() as conn:
            write_frame(conn, table, df)


def dumps(value: Any) -> str:
    """Compact JSON for list/dict cells stored in the warehouse."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
