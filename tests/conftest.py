"""Shared fixtures: temporary inboxes, resources bound to a temporary warehouse, and real services.

Tests that need PostgreSQL or Chromium skip on a developer machine without them, but FAIL under CI=true:
CI machines have them, so a skip there would hide a broken test.
"""

from __future__ import annotations

import os
import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.PreviewWarning)

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_INBOX = REPO_ROOT / "data" / "sample_inbox"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
POSTGRES_URL = os.environ.get("SKILLATLAS_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def require(condition: bool, reason: str) -> None:
    """Skip locally when a real service is missing; fail in CI, where it must be present."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


def sample_files(kind: str, count: int) -> list[Path]:
    """`count` sample documents of `kind` ('courses' or 'jobs'), spread over the four formats."""
    files = sorted((SAMPLE_INBOX / kind).iterdir())
    by_ext: dict[str, list[Path]] = {}
    for f in files:
        by_ext.setdefault(f.suffix, []).append(f)
    picked: list[Path] = []
    while len(picked) < count and any(by_ext.values()):
        for ext in sorted(by_ext):
            if by_ext[ext] and len(picked) < count:
                picked.append(by_ext[ext].pop(0))
    return picked


@pytest.fixture
def small_inbox(tmp_path: Path) -> Path:
    """A fresh inbox with 4 courses and 6 job postings of all four formats."""
    inbox = tmp_path / "inbox"
    for kind, count in (("courses", 4), ("jobs", 6)):
        (inbox / kind).mkdir(parents=True)
        for f in sample_files(kind, count):
            shutil.copy2(f, inbox / kind / f.name)
    return inbox


def make_resources(data_dir: Path, inbox: Path, *, semantic: bool = False, **overrides: object) -> dict[str, object]:
    """Embedded resources on a temporary warehouse. Semantic extraction is off unless a test asks for it
    (the model costs seconds to load; the end-to-end test runs it)."""
    from resources import build_resources
    from resources.settings import Settings

    data_dir.mkdir(parents=True, exist_ok=True)
    settings = Settings(
        environment="embedded",
        data_dir=data_dir,
        inbox_dir=inbox,
        warehouse_url_env=None,
        embedded_warehouse_url=f"sqlite:///{data_dir / 'warehouse.sqlite'}",
        max_file_bytes=int(overrides.pop("max_file_bytes", 10_000_000)),  # type: ignore[arg-type]
        batch_size=int(overrides.pop("batch_size", 100)),  # type: ignore[arg-type]
        extractor="offline",
        # tests write their inbox just before the tick: no quiet period unless a test asks for one
        quiet_seconds=float(overrides.pop("quiet_seconds", 0.0)),  # type: ignore[arg-type]
    )
    resources = build_resources(settings)
    from resources.extractor import ExtractorResource

    resources["extractor"] = ExtractorResource(mode="offline", semantic=semantic)
    resources.update(overrides)
    return resources


@pytest.fixture(scope="session")
def reference_state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse + artefact folder with the reference assets materialised once per test session."""
    from assets import reference, scores

    data_dir = tmp_path_factory.mktemp("reference_state")
    resources = make_resources(data_dir, SAMPLE_INBOX)
    result = dg.materialize(
        [reference.skill_taxonomy, reference.taxonomy_vectors, reference.onet_occupations, scores.onet_text_skills],
        resources=resources,
    )
    assert result.success
    return data_dir


@pytest.fixture
def data_dir(tmp_path: Path, reference_state: Path) -> Path:
    """A private copy of the reference state for one test."""
    target = tmp_path / "data"
    shutil.copytree(reference_state, target)
    return target


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as inst:
        yield inst


@pytest.fixture(scope="session")
def postgres_url() -> str:
    import sqlalchemy as sa

    try:
        engine = sa.create_engine(POSTGRES_URL)
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
        engine.dispose()
    except Exception as exc:  # noqa: BLE001
        require(False, f"PostgreSQL at {POSTGRES_URL} is not reachable: {exc}")
    return POSTGRES_URL


def run_sample_pipeline(root: Path, reference_state: Path, resources_override: dict | None = None):
    """The whole sample corpus (plus one broken upload) through the sensor and the jobs, phrase matching only.
    Returns (defs, instance context manager result, warehouse, ok, inbox); the caller owns the instance."""
    from definitions import build_definitions
    from jobs.pipeline_run import run_pipeline

    inbox = root / "inbox"
    shutil.copytree(SAMPLE_INBOX, inbox)
    (inbox / "jobs" / "broken.pdf").write_bytes(b"%PDF-1.4\n% truncated upload")
    shutil.copytree(reference_state, root / "data")  # taxonomy, vectors, occupations: built once per session
    resources = make_resources(root / "data", inbox, semantic=False, **(resources_override or {}))
    defs = build_definitions(resources)
    return defs, resources, inbox, run_pipeline


@pytest.fixture(scope="session")
def sample_pipeline(tmp_path_factory: pytest.TempPathFactory, reference_state: Path):
    """The sample corpus end to end on the embedded (SQLite) warehouse, shared by the end-to-end tests."""
    defs, resources, inbox, run_pipeline = run_sample_pipeline(tmp_path_factory.mktemp("e2e"), reference_state)
    with dg.instance_for_test() as instance:
        ok = run_pipeline(defs, instance, reference=False)
        yield defs, instance, resources["warehouse"], ok, inbox
