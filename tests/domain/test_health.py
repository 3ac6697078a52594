"""Pipeline health figures (skillatlas.health) and the `skillatlas health` command (skillatlas.health_cli)."""

import argparse
import io
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from skillatlas import health_cli
from skillatlas.health import HEALTH_COLUMNS, job_health, overall

NOW = 1_000_000.0


def runs_frame(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(
        rows, columns=["run_id", "job_name", "status", "create_time", "start_time", "end_time", "retry_number"]
    ).astype({"start_time": float, "end_time": float})


RUNS = runs_frame(
    [
        ("r1", "ingest_batch_job", "SUCCESS", NOW - 500, NOW - 500, NOW - 490, 0),  # 10 s
        ("r2", "ingest_batch_job", "SUCCESS", NOW - 400, NOW - 400, NOW - 380, 0),  # 20 s
        ("r3", "ingest_batch_job", "FAILURE", NOW - 300, NOW - 300, NOW - 270, 0),  # 30 s
        ("r4", "ingest_batch_job", "SUCCESS", NOW - 260, NOW - 260, NOW - 220, 1),  # retry of r3, 40 s
        ("r5", "ingest_batch_job", "STARTED", NOW - 100, NOW - 100, np.nan, 0),
        ("r6", "ingest_batch_job", "QUEUED", NOW - 5, np.nan, np.nan, 0),
        ("s1", "rebuild_scores_job", "CANCELED", NOW - 50, NOW - 50, NOW - 45, 0),
        ("s2", "rebuild_scores_job", "STARTED", NOW - 3600, NOW - 3600, np.nan, 0),
    ]
)


def test_job_health_counts_rates_percentiles_and_stuck_age() -> None:
    health = job_health(RUNS, now=NOW).set_index("job_name")
    assert list(health.reset_index().columns) == HEALTH_COLUMNS
    ingest = health.loc["ingest_batch_job"]
    assert ingest["runs"] == 6 and ingest["succeeded"] == 3 and ingest["failed"] == 1
    assert ingest["failure_rate"] == 0.25  # of finished runs
    assert ingest["retried_runs"] == 1
    assert ingest["p50_duration_s"] == pytest.approx(25.0)
    assert ingest["p95_duration_s"] == pytest.approx(np.percentile([10, 20, 30, 40], 95))
    assert ingest["queued"] == 1 and ingest["running"] == 1 and ingest["oldest_running_age_s"] == 100
    scores = health.loc["rebuild_scores_job"]
    assert scores["failed"] == 1 and scores["failure_rate"] == 1.0  # a cancelled run counts as failed
    assert scores["oldest_running_age_s"] == 3600


def test_job_without_finished_runs_has_no_percentiles() -> None:
    health = job_health(runs_frame([("q", "trends_job", "QUEUED", NOW, np.nan, np.nan, 0)]), now=NOW)
    row = health.iloc[0]
    assert row["failure_rate"] == 0.0 and math.isnan(row["p50_duration_s"]) and row["queued"] == 1


def test_overall_and_empty_history() -> None:
    totals = overall(job_health(RUNS, now=NOW))
    assert totals["runs"] == 8 and totals["failed"] == 2 and totals["retried_runs"] == 1
    assert totals["failure_rate"] == round(2 / 5, 4) and totals["queued"] == 1
    assert totals["oldest_running_age_s"] == 3600
    assert job_health(RUNS.iloc[0:0], now=NOW).empty
    assert overall(job_health(RUNS.iloc[0:0], now=NOW))["runs"] == 0


# ------------------------------------------------------------------------------------------ the command


def write_warehouse(path: Path, *, ledger: bool = True) -> str:
    url = f"sqlite:///{path}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        job_health(RUNS, now=NOW).to_sql("pipeline_health", conn, index=False)
        if ledger:
            pd.DataFrame(
                {
                    "asset": ["document_text", "document_text", "document_skills"],
                    "partition": ["b1", "b1", "b2"],
                    "item": ["jobs/a.pdf", "jobs/b.txt", "courses/c.docx"],
                    "error_kind": ["invalid_format", "no_extractable_text", "invalid_format"],
                    "message": ["corrupt PDF", "empty file", "model error"],
                    "attempts": [1, 2, 1],
                }
            ).to_sql("item_failures", conn, index=False)
    engine.dispose()
    return url


def run_cli(argv: list[str]) -> tuple[int, str]:
    parser = argparse.ArgumentParser()
    health_cli.register(parser.add_subparsers(dest="cmd"))
    args = parser.parse_args(argv)
    out = io.StringIO()
    return args.func(args, out=out), out.getvalue()


def test_health_table_output(tmp_path: Path) -> None:
    url = write_warehouse(tmp_path / "w.sqlite")
    code, text = run_cli(["health", "--warehouse-url", url])
    assert code == 0
    lines = text.splitlines()
    assert lines[0].split()[:3] == ["job", "runs", "failed"]
    ingest = next(line for line in lines if line.startswith("ingest_batch_job")).split()
    assert ingest[1:5] == ["6", "1", "25.0%", "1"]  # runs, failed, failure rate, retried
    assert ingest[5:7] == ["25.0", "38.5"]  # p50, p95 seconds
    assert ingest[7:] == ["1", "1", "100s"]  # queued, running, oldest running age
    scores = next(line for line in lines if line.startswith("rebuild_scores_job")).split()
    assert scores[-1] == "60m"
    assert "items failed (open): 3" in text
    assert any(line.split() == ["invalid_format", "2"] for line in lines)
    assert any(line.split() == ["no_extractable_text", "1"] for line in lines)


def test_health_json_output_from_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = write_warehouse(tmp_path / "w.sqlite")
    monkeypatch.setenv("SKILLATLAS_WAREHOUSE_URL", url)
    code, text = run_cli(["health", "--json"])
    assert code == 0
    report = json.loads(text)
    jobs = {j["job_name"]: j for j in report["jobs"]}
    assert jobs["ingest_batch_job"]["retried_runs"] == 1 and jobs["ingest_batch_job"]["queued"] == 1
    assert jobs["ingest_batch_job"]["p95_duration_s"] == pytest.approx(38.5)
    assert report["items_failed"] == 3
    assert report["items_failed_by_kind"] == {"invalid_format": 2, "no_extractable_text": 1}
    assert report["items_failed_by_asset"] == {"document_skills": 1, "document_text": 2}


def test_health_without_ledger_and_with_nan_percentiles(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'w.sqlite'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        job_health(runs_frame([("q", "trends_job", "QUEUED", NOW, np.nan, np.nan, 0)]), now=NOW).to_sql(
            "pipeline_health", conn, index=False
        )
    engine.dispose()
    code, text = run_cli(["health", "--json", "--warehouse-url", url])
    report = json.loads(text)
    assert code == 0 and report["jobs"][0]["p50_duration_s"] is None and report["items_failed"] == 0
    code, text = run_cli(["health", "--warehouse-url", url])
    assert code == 0 and "items failed (open): 0" in text


def test_health_missing_warehouse_or_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.sqlite"
    code, _ = run_cli(["health", "--warehouse-url", f"sqlite:///{missing}"])
    assert code == 1 and "run `make run` first" in capsys.readouterr().err
    assert not missing.exists()  # the command does not create an empty warehouse
    empty = tmp_path / "empty.sqlite"
    sa.create_engine(f"sqlite:///{empty}").connect().close()
    code, _ = run_cli(["health", "--warehouse-url", f"sqlite:///{empty}"])
    err = capsys.readouterr().err
    assert code == 1 and "table pipeline_health does not exist yet" in err and "run `make run` first" in err
