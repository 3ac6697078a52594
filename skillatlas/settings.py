"""Every ``SKILLATLAS_*`` knob in one typed model: name, type, default, allowed values and meaning.

Read them with :func:`load_settings` (fresh from the environment on every call, so tests can monkeypatch the
environment). A bad value raises :class:`SettingsError` naming the variable, e.g.
``SKILLATLAS_BATCH_SIZE=500 is out of range [1, 100]``.

To add a setting: add a field here (type, default, bounds, ``description``), then regenerate the README table
with ``python -m skillatlas.settings --markdown`` (``tests/domain/test_settings.py`` fails until README and
model agree).

Secrets (``SKILLATLAS_WAREHOUSE_URL`` in production, ``SKILLATLAS_WEBHOOK_URL``, ``OPENAI_API_KEY``) are
described and validated here, but the Dagster layer passes them to resources with ``dg.EnvVar`` so their values
never land in run config or the UI.

No Dagster import here: the domain package and the CLI read the same model.
"""

from __future__ import annotations

import argparse
import sys
import typing
from pathlib import Path
from typing import Annotated, Any, Literal, TypedDict

from annotated_types import Ge, Gt, Le, Lt
from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from skillatlas.ingest.inbox import DEFAULT_QUIET_SECONDS, MAX_BATCH_SIZE

__all__ = [
    "DEFAULT_MIN_CONFIDENCE",
    "ENV_PREFIX",
    "LLMLimits",
    "Settings",
    "SettingsError",
    "env_name",
    "load_settings",
    "markdown_table",
]

ENV_PREFIX = "SKILLATLAS_"
DEFAULT_MIN_CONFIDENCE = 0.5
REPO_ROOT = Path(__file__).resolve().parents[1]

Environment = Literal["embedded", "production"]
ExtractorMode = Literal["offline", "openai", "cascade"]
LLMMode = Literal["sync", "batch"]
ExecutorMode = Literal["multiprocess", "in_process", "celery"]
NotifierKind = Literal["log", "webhook", "slack"]

_OFF = ("off", "none")


class LLMLimits(TypedDict):
    """The LLM client's rate limits, timeout and retries, named as ``LLMConfig`` and the Dagster extractor
    resource take them (``LLMConfig(**settings.llm_limits)``)."""

    requests_per_minute: float | None
    tokens_per_minute: float | None
    timeout_s: float
    max_retries: int


class SettingsError(ValueError):
    """A ``SKILLATLAS_*`` variable has a value the settings model refuses (the message names it)."""


def env_name(field: str) -> str:
    """``batch_size`` -> ``SKILLATLAS_BATCH_SIZE``."""
    return ENV_PREFIX + field.upper()


class Settings(BaseSettings):
    """The deployment's configuration, from ``SKILLATLAS_<FIELD>`` environment variables."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_ignore_empty=True, extra="ignore", frozen=True, case_sensitive=False
    )

    # ------------------------------------------------------------------ deployment
    env: Environment = Field(default="embedded", description="`embedded` (SQLite) or `production`")
    warehouse_url: str | None = Field(
        default=None, repr=False,
        description="SQLAlchemy URL of the warehouse, e.g. `postgresql+psycopg://user:pw@host/db`; required in "
        "production, read through `EnvVar` (a secret)",
        json_schema_extra={"shown_default": "SQLite file in the data dir"},
    )
    data_dir: Path | None = Field(
        default=None,
        description="warehouse file (embedded) and artefacts (vectors, search index, LLM cache)",
        json_schema_extra={"shown_default": "`.dagster/`"},
    )
    inbox: Path | None = Field(
        default=None, description="the upload inbox", json_schema_extra={"shown_default": "`data/sample_inbox`"}
    )
    reference_dir: Path | None = Field(
        default=None, description="the built O*NET/ESCO reference tables (parquet)",
        json_schema_extra={"shown_default": "`data/reference`"},
    )
    index_dir: Path | None = Field(
        default=None,
        description="where `skillatlas search` reads the search index (the `search_index` asset writes to the "
        "data dir's artefacts)",
        json_schema_extra={"shown_default": "`<data dir>/artifacts/search_index`"},
    )
    raw_data: Path | None = Field(
        default=None, description="raw O*NET/ESCO/evaluation downloads, for the benchmark scripts only"
    )

    # ------------------------------------------------------------------ ingestion
    max_file_bytes: int = Field(
        default=10_000_000, ge=1, le=2_000_000_000,
        description="larger uploads are refused (one `skipped_uploads` row, never read or hashed)",
    )
    inbox_quiet_seconds: float = Field(
        default=DEFAULT_QUIET_SECONDS, ge=0.0, le=86_400.0,
        description="a file is registered only once its size and mtime have been unchanged this long",
    )
    batch_size: int = Field(default=MAX_BATCH_SIZE, ge=1, le=MAX_BATCH_SIZE, description="documents per upload batch")

    # ------------------------------------------------------------------ extraction
    extractor: ExtractorMode = Field(
        default="offline", description="`offline`, `openai` or `cascade` (the LLM modes need `OPENAI_API_KEY`)"
    )
    semantic: bool = Field(
        default=True, description="`0`: phrase matching only (no MiniLM; much faster, lower recall)"
    )
    max_span_tokens: int = Field(
        default=2, ge=1, le=4,
        description="longest sentence window the semantic matcher embeds (2 is ~1.7x faster than 4 for a small "
        "recall loss)",
    )
    min_confidence: float = Field(
        default=DEFAULT_MIN_CONFIDENCE, ge=0.0, le=1.0,
        description="skills found with a lower confidence are not stored (offline matcher; the LLM too unless "
        "`SKILLATLAS_LLM_MIN_CONFIDENCE` is set)",
    )
    cascade_threshold: float = Field(
        default=0.75, ge=0.0, le=1.0,
        description="`cascade`: a document goes to the LLM when its best offline confidence is below this",
    )
    onnx_threads: int | None = Field(
        default=None, ge=1, le=256, description="intra-op threads of the MiniLM model",
        json_schema_extra={"shown_default": "usable cores, at most 8"},
    )

    # ------------------------------------------------------------------ LLM
    llm_model: str = Field(default="gpt-4o-mini", min_length=1, description="OpenAI(-compatible) chat model")
    llm_min_confidence: float | None = Field(
        default=None, ge=0.0, le=1.0,
        description="LLM skills below this confidence are dropped",
        json_schema_extra={"shown_default": "`SKILLATLAS_MIN_CONFIDENCE`"},
    )
    llm_rpm: float | None = Field(
        default=300.0, gt=0.0, description="client-side request rate limit per minute (`off`: none)"
    )
    llm_tpm: float | None = Field(
        default=200_000.0, gt=0.0, description="client-side token rate limit per minute (`off`: none)"
    )
    llm_timeout_s: float = Field(default=60.0, gt=0.0, le=3600.0, description="seconds to wait for one answer")
    llm_max_retries: int = Field(
        default=2, ge=0, le=10,
        description="retries of a failed LLM request by the openai SDK (timeouts, 429 honouring Retry-After, 5xx)",
    )
    llm_cache: str | None = Field(
        default=None,
        description="LLM answer cache (SQLite file or folder), shared by pipeline and CLI; `off` disables it",
        json_schema_extra={"shown_default": "`<data dir>/artifacts/llm_cache.sqlite`"},
    )
    llm_mode: LLMMode = Field(
        default="sync",
        description="`batch`: `reextract_job` (and `llm_batch_submit_job`) go through the OpenAI Batch API; "
        "`sync`: chat completions now. Run config `llm_mode` of `reextract_job` overrides it; sensor-driven "
        "uploads are always `sync`",
    )
    llm_review_zone: Annotated[tuple[float, float] | None, NoDecode] = Field(
        default=None,
        description="`low,high`: grounded LLM skills with confidence in [low, high) are queued for review "
        "instead of stored",
    )

    # ------------------------------------------------------------------ operations
    executor: ExecutorMode = Field(
        default="multiprocess",
        description="where steps run: `multiprocess` (Dagster's default), `in_process`, or `celery` (workers)",
    )
    celery_broker: str = Field(
        default="pyamqp://guest:guest@127.0.0.1:5672//", repr=False,
        description="Celery broker (RabbitMQ); read from the environment at run time, never stored in run config",
    )
    celery_backend: str = Field(
        default="rpc://", repr=False,
        description="Celery result backend (`rpc://` or e.g. `redis://127.0.0.1:6379/0`)",
    )
    celery_queue: str = Field(
        default="dagster", min_length=1,
        description="the broker queue the runs submit steps to and the workers consume",
    )
    stuck_minutes: float = Field(
        default=15.0, gt=0.0,
        description="a document run whose running step logs nothing this long is cancelled by `stuck_run_sensor`",
    )
    notifier: NotifierKind = Field(
        default="log",
        description="failure notices: `log`, `webhook` (`SKILLATLAS_WEBHOOK_URL`) or `slack` (`SLACK_TOKEN`)",
    )
    webhook_url: str | None = Field(
        default=None, repr=False, description="where `webhook` notices are POSTed; read through `EnvVar`"
    )
    webserver_url: str = Field(
        default="http://127.0.0.1:3000",
        description="base URL of the Dagster UI, for run links in notices and `failed_items`",
    )

    # ------------------------------------------------------------------ validation

    @field_validator("env", "extractor", "llm_mode", "executor", "notifier", mode="before")
    @classmethod
    def _normalise_choice(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("llm_rpm", "llm_tpm", mode="before")
    @classmethod
    def _off_is_none(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().lower() in _OFF:
            return None
        return value

    @field_validator("llm_review_zone", mode="before")
    @classmethod
    def _parse_zone(cls, value: Any) -> Any:
        if isinstance(value, str):
            if not value.strip():
                return None
            try:
                low, high = (float(x) for x in value.split(","))
            except ValueError:
                raise ValueError("must be two numbers: low,high") from None
            value = (low, high)
        if value is not None:
            low, high = value
            if not 0.0 <= low < high <= 1.0:
                raise ValueError("need 0 <= low < high <= 1")
        return value

    @model_validator(mode="after")
    def _production_needs_a_warehouse(self) -> Settings:
        if self.env == "production" and not self.warehouse_url:
            raise ValueError(
                "SKILLATLAS_ENV=production needs SKILLATLAS_WAREHOUSE_URL, e.g. "
                "postgresql+psycopg://user:password@host:5432/skillatlas"
            )
        return self

    # ------------------------------------------------------------------ derived values

    @property
    def resolved_data_dir(self) -> Path:
        return (self.data_dir or REPO_ROOT / ".dagster").resolve()

    @property
    def artifacts_dir(self) -> Path:
        return self.resolved_data_dir / "artifacts"

    @property
    def resolved_inbox(self) -> Path:
        return (self.inbox or REPO_ROOT / "data" / "sample_inbox").resolve()

    @property
    def resolved_reference_dir(self) -> Path:
        return self.reference_dir or REPO_ROOT / "data" / "reference"

    @property
    def embedded_warehouse_url(self) -> str:
        return f"sqlite:///{self.resolved_data_dir / 'warehouse.sqlite'}"

    @property
    def effective_llm_min_confidence(self) -> float:
        return self.min_confidence if self.llm_min_confidence is None else self.llm_min_confidence

    @property
    def llm_limits(self) -> LLMLimits:
        return LLMLimits(requests_per_minute=self.llm_rpm, tokens_per_minute=self.llm_tpm,
                         timeout_s=self.llm_timeout_s, max_retries=self.llm_max_retries)

    @property
    def llm_cache_path(self) -> Path | None:
        """The one LLM cache of pipeline and CLI: ``SKILLATLAS_LLM_CACHE`` or the artefacts folder."""
        if self.llm_cache is None:
            return self.artifacts_dir / "llm_cache.sqlite"
        if self.llm_cache.strip().lower() in _OFF:
            return None
        return Path(self.llm_cache).expanduser()


def _bounds(field: str) -> tuple[str, str]:
    low = high = ""
    for meta in Settings.model_fields[field].metadata:
        if isinstance(meta, Ge):
            low = f"[{meta.ge}"
        elif isinstance(meta, Gt):
            low = f"({meta.gt}"
        elif isinstance(meta, Le):
            high = f"{meta.le}]"
        elif isinstance(meta, Lt):
            high = f"{meta.lt})"
    return low, high


def _choices(field: str) -> list[str]:
    annotation = Settings.model_fields[field].annotation
    for arg in (annotation, *typing.get_args(annotation)):
        if typing.get_origin(arg) is Literal:
            return [str(a) for a in typing.get_args(arg)]
    return []


def _explain(error: Any) -> str:
    loc = error.get("loc") or ()
    message = str(error.get("msg", "")).removeprefix("Value error, ")
    if not loc:
        return message
    field = str(loc[0])
    name, raw, kind = env_name(field), error.get("input"), error.get("type", "")
    if kind in ("int_parsing", "int_from_float", "int_type"):
        return f"{name}={raw!r} is not an integer"
    if kind in ("float_parsing", "float_type"):
        return f"{name}={raw!r} is not a number"
    if kind in ("bool_parsing", "bool_type"):
        return f"{name}={raw!r} is not a boolean (use 1/0, true/false)"
    if kind == "literal_error":
        return f"{name}={raw!r} is not one of {', '.join(_choices(field))}"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        low, high = _bounds(field)
        if low and high:
            return f"{name}={raw} is out of range {low}, {high}"
        if kind == "greater_than" and low.startswith("(0"):
            return f"{name}={raw} must be positive"
        return f"{name}={raw}: {message}"
    return f"{name}={raw!r}: {message}"


def load_settings(**overrides: Any) -> Settings:
    """The settings from the environment (``overrides`` win); :class:`SettingsError` names a bad variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise SettingsError("; ".join(_explain(e) for e in exc.errors())) from None


# --------------------------------------------------------------------------------------------- README


def shown_default(field: str) -> str:
    """The default as the README shows it (markdown; a description for defaults computed at run time)."""
    info = Settings.model_fields[field]
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    if "shown_default" in extra:
        return str(extra["shown_default"])
    default = info.default
    if default is None:
        return "—"
    if isinstance(default, bool):
        return "`1`" if default else "`0`"
    if isinstance(default, float) and default.is_integer():
        return f"`{int(default)}`"
    return f"`{default}`"


def markdown_table() -> str:
    """The README's configuration table, generated from the model."""
    lines = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for field, info in Settings.model_fields.items():
        lines.append(f"| `{env_name(field)}` | {shown_default(field)} | {info.description} |")
    return "\n".join(lines) + "\n"


README_START = "<!-- settings-table:start (generated by `python -m skillatlas.settings --update-readme`) -->"
README_END = "<!-- settings-table:end -->"


def readme_table(readme: str) -> str:
    """The generated block of a README text ("" when the markers are missing)."""
    start, end = readme.find(README_START), readme.find(README_END)
    if start < 0 or end < start:
        return ""
    return readme[start + len(README_START):end].strip("\n") + "\n"


def update_readme(path: Path) -> bool:
    """Rewrite the table between the markers of ``path``; True when it changed."""
    text = path.read_text(encoding="utf-8")
    start, end = text.find(README_START), text.find(README_END)
    if start < 0 or end < start:
        raise SettingsError(f"{path}: markers {README_START!r} / {README_END!r} not found")
    new = text[: start + len(README_START)] + "\n" + markdown_table() + text[end:]
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m skillatlas.settings", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--markdown", action="store_true", help="print the README configuration table")
    parser.add_argument("--update-readme", action="store_true", help="rewrite the table in README.md")
    args = parser.parse_args(argv)
    if args.update_readme:
        changed = update_readme(REPO_ROOT / "README.md")
        print("README.md updated" if changed else "README.md already up to date")
        return 0
    if args.markdown:
        sys.stdout.write(markdown_table())
        return 0
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for field in Settings.model_fields:
        shown = "(set)" if Settings.model_fields[field].repr is False and getattr(settings, field) else \
            getattr(settings, field)
        print(f"{env_name(field)}={shown}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
