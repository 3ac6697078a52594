"""One typed settings model for every SKILLATLAS_* knob; README's table is generated from it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from skillatlas.settings import (
    DEFAULT_MIN_CONFIDENCE,
    Settings,
    SettingsError,
    env_name,
    load_settings,
    markdown_table,
    readme_table,
    shown_default,
)

ROOT = Path(__file__).resolve().parents[2]
CODE_DIRS = ("skillatlas", "assets", "jobs", "sensors", "schedules", "resources", "workers")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("SKILLATLAS_"):
            monkeypatch.delenv(name)


def test_readme_table_is_the_generated_one() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme_table(readme) == markdown_table(), "run `python -m skillatlas.settings --update-readme`"
    rows = {m.group(1): m.group(2) for m in re.finditer(r"^\| `(SKILLATLAS_[A-Z_]+)` \| (.*?) \|", readme, re.M)}
    assert set(rows) == {env_name(f) for f in Settings.model_fields}
    for field in Settings.model_fields:
        assert rows[env_name(field)] == shown_default(field)


def test_every_variable_the_code_names_is_a_setting() -> None:
    variable = re.compile(r"SKILLATLAS_[A-Z_]*[A-Z](?![A-Z_*])")  # SKILLATLAS_LLM_* names a family, not a variable
    named: set[str] = set()
    for folder in CODE_DIRS:
        for path in (ROOT / folder).rglob("*.py"):
            named |= set(variable.findall(path.read_text(encoding="utf-8")))
    named |= set(variable.findall((ROOT / "definitions.py").read_text(encoding="utf-8")))
    known = {env_name(f) for f in Settings.model_fields}
    assert named - known == set()


def test_only_the_settings_module_reads_skillatlas_variables() -> None:
    pattern = re.compile(r"(os\.environ\.get|os\.getenv|os\.environ\[)\(?\s*[\"']SKILLATLAS_")
    offenders = [
        str(path.relative_to(ROOT))
        for folder in CODE_DIRS
        for path in (ROOT / folder).rglob("*.py")
        if pattern.search(path.read_text(encoding="utf-8")) and path != ROOT / "skillatlas" / "settings.py"
    ]
    assert offenders == []


def test_defaults_and_derived_values() -> None:
    s = load_settings()
    assert s.env == "embedded" and s.extractor == "offline" and s.batch_size == 100
    assert s.min_confidence == DEFAULT_MIN_CONFIDENCE == s.effective_llm_min_confidence
    assert s.llm_cache_path == s.artifacts_dir / "llm_cache.sqlite"
    assert s.llm_review_zone is None


def test_values_are_parsed_and_normalised(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SKILLATLAS_EXTRACTOR", " Cascade ")
    monkeypatch.setenv("SKILLATLAS_SEMANTIC", "0")
    monkeypatch.setenv("SKILLATLAS_MIN_CONFIDENCE", "0.6")
    monkeypatch.setenv("SKILLATLAS_LLM_MIN_CONFIDENCE", "0.7")
    monkeypatch.setenv("SKILLATLAS_LLM_REVIEW_ZONE", "0.4,0.6")
    monkeypatch.setenv("SKILLATLAS_LLM_RPM", "off")
    monkeypatch.setenv("SKILLATLAS_LLM_CACHE", "off")
    monkeypatch.setenv("SKILLATLAS_DATA_DIR", str(tmp_path))
    s = load_settings()
    assert (s.extractor, s.semantic, s.min_confidence, s.effective_llm_min_confidence) == ("cascade", False, 0.6, 0.7)
    assert s.llm_review_zone == (0.4, 0.6) and s.llm_rpm is None and s.llm_cache_path is None
    assert s.resolved_data_dir == tmp_path.resolve()


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SKILLATLAS_ENV", "staging", "SKILLATLAS_ENV='staging' is not one of embedded, production"),
        ("SKILLATLAS_BATCH_SIZE", "500", r"SKILLATLAS_BATCH_SIZE=500 is out of range \[1, 100\]"),
        ("SKILLATLAS_BATCH_SIZE", "ten", "SKILLATLAS_BATCH_SIZE='ten' is not an integer"),
        ("SKILLATLAS_MIN_CONFIDENCE", "1.5", r"SKILLATLAS_MIN_CONFIDENCE=1.5 is out of range \[0.0, 1.0\]"),
        ("SKILLATLAS_CASCADE_THRESHOLD", "high", "SKILLATLAS_CASCADE_THRESHOLD='high' is not a number"),
        ("SKILLATLAS_SEMANTIC", "maybe", "SKILLATLAS_SEMANTIC='maybe' is not a boolean"),
        ("SKILLATLAS_LLM_REVIEW_ZONE", "0.6,0.4", "SKILLATLAS_LLM_REVIEW_ZONE=.*low < high"),
        ("SKILLATLAS_LLM_REVIEW_ZONE", "half", "SKILLATLAS_LLM_REVIEW_ZONE='half': must be two numbers"),
        ("SKILLATLAS_LLM_MODE", "later", "SKILLATLAS_LLM_MODE='later' is not one of sync, batch"),
        ("SKILLATLAS_EXTRACTOR", "gpt", "SKILLATLAS_EXTRACTOR='gpt' is not one of offline, openai, cascade"),
        ("SKILLATLAS_STUCK_MINUTES", "-3", "SKILLATLAS_STUCK_MINUTES=-3 must be positive"),
        ("SKILLATLAS_LLM_MAX_RETRIES", "99", r"SKILLATLAS_LLM_MAX_RETRIES=99 is out of range \[0, 10\]"),
    ],
)
def test_bad_values_name_the_variable(monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=message):
        load_settings()


def test_production_needs_a_warehouse_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SKILLATLAS_ENV", "production")
    with pytest.raises(SettingsError, match="needs SKILLATLAS_WAREHOUSE_URL"):
        load_settings()
    monkeypatch.setenv("SKILLATLAS_WAREHOUSE_URL", "postgresql+psycopg://u:secret@h/db")
    s = load_settings()
    assert s.warehouse_url and "secret" not in repr(s)
