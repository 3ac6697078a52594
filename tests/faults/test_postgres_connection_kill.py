"""Fault test: the PostgreSQL warehouse drops the run's connections mid-run.

A killer thread watches pg_stat_activity of a fresh database and terminates every busy (non-idle) backend
of the ingest run, a few times. The run must recover through its step RetryPolicy, or fail cleanly and be
completed by a retry run; either way no partition is partial or duplicated: per batch, document_text rows +
open ledger rows == manifest rows, one row per doc_id, one skill row per (doc_id, skill_id).
"""

import threading
import time
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
import sqlalchemy as sa

from assets.partitions import partition_range_tags
from resources.warehouse import WarehouseIOManager, WarehouseResource
from skillatlas.store.tables import DOCUMENT_SKILLS, DOCUMENT_TEXT, ITEM_FAILURES, UPLOAD_MANIFEST
from tests.conftest import SAMPLE_INBOX, make_resources
from tests.faults.helpers import admin_engine, temporary_database
from tests.support.documents import ASSETS, register

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

KILLS = 3


class BusyConnectionKiller(threading.Thread):
    """Terminates the non-idle backends of `database` (our own excepted) up to `kills` times."""

    def __init__(self, admin_url: str, database: str, kills: int) -> None:
        super().__init__(daemon=True)
        self.admin_url, self.database, self.kills = admin_url, database, kills
        self.killed: list[tuple[float, str]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        engine = admin_engine(self.admin_url)
        started = time.monotonic()
        try:
            with engine.connect() as conn:
                while not self.stop.is_set() and len(self.killed) < self.kills:
                    rows = conn.execute(
                        sa.text(
                            "SELECT pid, left(query, 60) FROM pg_stat_activity WHERE datname = :d AND "
                            "pid <> pg_backend_pid() AND state IS NOT NULL AND state <> 'idle'"
                        ),
                        {"d": self.database},
                    ).fetchall()
                    if len(self.killed) == self.kills - 1:
                        # the last kill lands inside a partition write (delete + insert transaction)
                        rows = [r for r in rows if str(r[1]).lstrip().upper().startswith(("INSERT", "DELETE"))]
                    for pid, query in rows:
                        ok = conn.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar()
                        if ok:
                            self.killed.append((round(time.monotonic() - started, 2), query))
                    # leave the run time to make progress (and its retry policy time to retry) between kills
                    self.stop.wait(1.5 if rows else 0.02)
        finally:
            engine.dispose()


def copy_table(source_url: str, target_url: str, table: str) -> None:
    src, dst = sa.create_engine(source_url), sa.create_engine(target_url)
    frame = pd.read_sql_table(table, src)
    with dst.begin() as conn:
        frame.to_sql(table, conn, index=False, chunksize=5000, method="multi")
    src.dispose()
    dst.dispose()


def check_partitions(warehouse: WarehouseResource, keys: list[str]) -> dict[str, int]:
    manifest = warehouse.read_table(UPLOAD_MANIFEST)
    text = warehouse.read_table(DOCUMENT_TEXT)
    skills = warehouse.read_table(DOCUMENT_SKILLS)
    ledger = warehouse.read_table(ITEM_FAILURES)
    assert not text["doc_id"].duplicated().any()
    assert not skills.duplicated(["doc_id", "skill_id"]).any()
    assert set(skills["doc_id"]) <= set(text["doc_id"])
    for key in keys:
        expected = int((manifest["batch_id"] == key).sum())
        failed = int(((ledger["partition"] == key) & (ledger["asset"] == "document_text")).sum()) if len(ledger) else 0
        assert int((text["batch_id"] == key).sum()) == expected - failed, f"partition {key} is partial"
        assert (skills["batch_id"] == key).any(), f"partition {key} has no skills"
    return {"documents": len(text), "skill_rows": len(skills), "ledger_rows": len(ledger)}


def test_run_survives_killed_warehouse_connections(
    tmp_path: Path, data_dir: Path, instance: dg.DagsterInstance, postgres_url: str
) -> None:
    started = time.perf_counter()
    with temporary_database(postgres_url) as url:
        database = sa.engine.make_url(url).database
        copy_table(f"sqlite:///{data_dir / 'warehouse.sqlite'}", url, "skill_taxonomy")
        resources = make_resources(
            data_dir, SAMPLE_INBOX, io_manager=WarehouseIOManager(url=url), warehouse=WarehouseResource(url=url)
        )
        keys = register(instance, resources)
        assert len(keys) >= 3
        tags = partition_range_tags(keys[0], keys[-1])

        killer = BusyConnectionKiller(postgres_url, database, KILLS)
        killer.start()
        first = dg.materialize(ASSETS, resources=resources, instance=instance, tags=tags, raise_on_error=False)
        killer.stop.set()
        killer.join()
        assert killer.killed, "the killer never caught a busy warehouse connection"
        writes_killed = sum(1 for _, q in killer.killed if q.lstrip().upper().startswith(("INSERT", "DELETE")))
        restarts = sum(1 for e in first.all_events if e.event_type_value == "STEP_RESTARTED")

        runs = [first]
        if not first.success:  # failed cleanly: a retry of the run completes it
            runs.append(dg.materialize(ASSETS, resources=resources, instance=instance, tags=tags))
            assert runs[-1].success
        figures = check_partitions(resources["warehouse"], keys)
    print(
        f"\nkilled {len(killer.killed)} busy connections at {[t for t, _ in killer.killed]} s "
        f"({[q[:20] for _, q in killer.killed]}; {writes_killed} inside a write); step restarts {restarts}; first run "
        f"{'succeeded' if first.success else 'failed'}; runs {len(runs)}; {figures}; "
        f"{time.perf_counter() - started:.1f} s"
    )
