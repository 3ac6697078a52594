"""The warehouse IO manager on SQLite and on a real PostgreSQL: a partition write replaces the partition's
rows in one transaction; a failed write leaves the previous rows in place."""

import uuid
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
import sqlalchemy as sa

from resources.warehouse import WarehouseIOManager, WarehouseResource, dispose_engines, redact_url


@pytest.fixture(params=["sqlite", "postgres"])
def warehouse_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'wh.sqlite'}"
    return request.getfixturevalue("postgres_url")


def build_assets(table: str, fail_on: set[str]):
    parts = dg.StaticPartitionsDefinition(["a", "b"])

    @dg.asset(name=table, partitions_def=parts, metadata={"partition_expr": "batch_id"})
    def rows(context: dg.AssetExecutionContext) -> pd.DataFrame:
        key = context.partition_key
        frame = pd.DataFrame({"batch_id": [key] * 3, "value": [1, 2, 3]})
        if key in fail_on:
            # A list cell cannot be stored: the insert fails after the delete ran, inside the transaction.
            # (A column the table lacks no longer fails: write_frame adds it, see the additive-column test.)
            frame["surprise"] = [[1], [2], [3]]
        return frame

    return rows


def count(url: str, table: str) -> pd.DataFrame:
    with sa.create_engine(url).connect() as conn:
        return pd.read_sql(sa.text(f'select batch_id, count(*) as n from "{table}" group by batch_id'), conn)


def test_partition_rewrite_replaces_rows(warehouse_url: str) -> None:
    table = f"t_{uuid.uuid4().hex[:10]}"
    asset = build_assets(table, set())
    io = WarehouseIOManager(url=warehouse_url)
    for key in ("a", "b", "a", "a"):
        assert dg.materialize([asset], partition_key=key, resources={"io_manager": io}).success
    counts = dict(count(warehouse_url, table).itertuples(index=False))
    assert counts == {"a": 3, "b": 3}


def test_failed_write_keeps_previous_partition(warehouse_url: str) -> None:
    table = f"t_{uuid.uuid4().hex[:10]}"
    io = WarehouseIOManager(url=warehouse_url)
    assert dg.materialize([build_assets(table, set())], partition_key="a", resources={"io_manager": io}).success
    result = dg.materialize(
        [build_assets(table, {"a"})], partition_key="a", resources={"io_manager": io}, raise_on_error=False
    )
    assert not result.success
    assert dict(count(warehouse_url, table).itertuples(index=False)) == {"a": 3}


def test_unpartitioned_downstream_loads_all_partitions(warehouse_url: str) -> None:
    table = f"t_{uuid.uuid4().hex[:10]}"
    upstream = build_assets(table, set())
    io = WarehouseIOManager(url=warehouse_url)
    for key in ("a", "b"):
        assert dg.materialize([upstream], partition_key=key, resources={"io_manager": io}).success

    @dg.asset(name=f"{table}_sum", ins={"up": dg.AssetIn(table)})
    def summed(up: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({"rows": [len(up)], "total": [int(up["value"].sum())]})

    result = dg.materialize([upstream.to_source_asset(), summed], resources={"io_manager": io})
    assert result.success
    assert WarehouseResource(url=warehouse_url).read_table(f"{table}_sum").to_dict("records") == [
        {"rows": 6, "total": 12}
    ]


def test_list_cells_are_refused_with_a_clear_message(tmp_path: Path) -> None:
    resource = WarehouseResource(url=f"sqlite:///{tmp_path / 'w.sqlite'}")
    with pytest.raises(TypeError, match="column 'aliases' of table 'x' holds lists"):
        resource.append_rows("x", pd.DataFrame({"aliases": [["a", "b"]]}))


def test_replace_rows_uses_bound_parameters(tmp_path: Path) -> None:
    resource = WarehouseResource(url=f"sqlite:///{tmp_path / 'w.sqlite'}")
    resource.append_rows("m", pd.DataFrame({"k": ["x'; drop table m; --", "y"], "v": [1, 2]}))
    resource.replace_rows("m", pd.DataFrame({"k": ["z"], "v": [3]}), {"k": "x'; drop table m; --"})
    assert sorted(resource.read_table("m")["k"]) == ["y", "z"]


def test_password_never_shown() -> None:
    assert "hunter2" not in redact_url("postgresql+psycopg://app:hunter2@db:5432/wh")
    dispose_engines()


def test_wide_frames_stay_under_the_bind_parameter_limits(warehouse_url: str) -> None:
    """5,000 rows x 20 columns is 100,000 parameters in one naive multi-row INSERT: over both servers' limits."""
    table = f"t_{uuid.uuid4().hex[:10]}"
    frame = pd.DataFrame({f"c{i}": range(5000) for i in range(20)})
    resource = WarehouseResource(url=warehouse_url)
    resource.append_rows(table, frame)
    assert len(resource.read_table(table)) == 5000


def test_write_frame_adds_a_new_column_to_an_existing_table(tmp_path: Path) -> None:
    """A release that writes one more column (e.g. document_skills.occurrences) appends to a warehouse built by
    the previous one: the column is added nullable, older rows read as NULL, nothing is dropped."""
    import sqlalchemy as sa

    from skillatlas.store.sql import read_rows, write_frame

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'w.sqlite'}")
    with engine.begin() as conn:
        write_frame(conn, "t", pd.DataFrame({"doc_id": ["a"], "n": [1]}))
    with engine.begin() as conn:
        write_frame(conn, "t", pd.DataFrame({"doc_id": ["b"], "n": [2], "occurrences": ["[[0,3]]"], "w": [0.5]}))
    with engine.connect() as conn:
        rows = read_rows(conn, "t").sort_values("doc_id").reset_index(drop=True)
    assert list(rows.columns) == ["doc_id", "n", "occurrences", "w"]
    assert rows["doc_id"].tolist() == ["a", "b"]
    assert rows["occurrences"].isna().tolist() == [True, False]
    assert rows.loc[1, "w"] == 0.5


def test_range_run_labels_its_totals_as_the_range(tmp_path: Path) -> None:
    """A run over several partitions gives each partition the same output metadata: no partition may claim the
    range's row count as its own."""
    table = f"t_{uuid.uuid4().hex[:10]}"
    io = WarehouseIOManager(url=f"sqlite:///{tmp_path / 'wh.sqlite'}")
    parts = dg.StaticPartitionsDefinition(["a", "b"])

    @dg.asset(name=table, partitions_def=parts, metadata={"partition_expr": "batch_id"},
              backfill_policy=dg.BackfillPolicy.single_run())
    def rows(context: dg.AssetExecutionContext) -> pd.DataFrame:
        return pd.DataFrame({"batch_id": [k for k in context.partition_keys for _ in range(3)], "value": 1})

    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize(
        [rows], resources={"io_manager": io}, instance=instance,
        tags={"dagster/asset_partition_range_start": "a", "dagster/asset_partition_range_end": "b"},
    )
    assert result.success
    events = result.asset_materializations_for_node(table)
    assert sorted(e.partition for e in events) == ["a", "b"]
    for event in events:
        assert "dagster/row_count" not in event.metadata
        assert event.metadata["range_rows"].value == 6 and event.metadata["range_partitions"].value == 2
    assert dict(count(io.url, table).itertuples(index=False)) == {"a": 3, "b": 3}
    single = dg.materialize([rows], partition_key="a", resources={"io_manager": io}, instance=instance)
    assert single.asset_materializations_for_node(table)[0].metadata["dagster/row_count"].value == 3


def test_an_empty_first_output_creates_typed_columns(tmp_path: Path) -> None:
    """The first materialisation of an asset may be empty (no failed items yet): the table it creates takes the
    declared numeric types, not TEXT."""
    table = f"t_{uuid.uuid4().hex[:10]}"
    url = f"sqlite:///{tmp_path / 'wh.sqlite'}"
    schema = dg.TableSchema(columns=[
        dg.TableColumn("name", "text"), dg.TableColumn("attempts", "int"), dg.TableColumn("share", "float"),
        dg.TableColumn("transient", "bool"),
    ])

    @dg.asset(name=table, metadata={"dagster/column_schema": schema})
    def empty_first() -> pd.DataFrame:
        frame = pd.DataFrame(columns=["name", "attempts", "share", "transient"])
        # a column derived from an empty one by .map() comes out float64 whatever it would hold
        frame["name"] = frame["attempts"].map({})
        return frame

    assert dg.materialize([empty_first], resources={"io_manager": WarehouseIOManager(url=url)}).success
    with sa.create_engine(url).connect() as conn:
        types = {c["name"]: str(c["type"]) for c in sa.inspect(conn).get_columns(table)}
    assert types == {"name": "TEXT", "attempts": "BIGINT", "share": "FLOAT", "transient": "BOOLEAN"}
