"""What the UI's catalog shows about each table: column schemas with descriptions and allowed values, storage
kinds, owners, and small markdown previews of the data.

Schemas are declared per asset as `dagster/column_schema` definition metadata; the warehouse IO manager reports
the declared schema with each materialisation (instead of pandas dtypes such as "object") and warns when the
table written differs from it. Previews are computed by the IO manager from the frame it writes
(`table_preview`), so asset bodies stay free of presentation code.
"""

from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg
import pandas as pd

from skillatlas.extract.llm.grounding import REVIEW_GREY_ZONE, REVIEW_INVALID_OUTPUT, REVIEW_UNGROUNDED
from skillatlas.score.alignment import TierPolicy
from skillatlas.settings import SettingsError, load_settings
from skillatlas.store import tables

_TIERS = TierPolicy()
# The tier rule, written from the policy the scores use (one place to change it).
TIER_RULE = (
    f"A: score >= {_TIERS.a_min_score:.2f}, rank <= {_TIERS.a_max_rank}, skill overlap >= {_TIERS.a_min_overlap:.2f} "
    f"and semantic >= {_TIERS.a_min_semantic:.2f}; B: score >= {_TIERS.b_min_score:.2f} and rank <= "
    f"{_TIERS.b_max_rank}; else C."
)

DATA_OWNERS = ["team:skillatlas-data"]
OPS_OWNERS = ["team:skillatlas-ops"]


def warehouse_kind() -> str:
    """The warehouse backend of this deployment, as a Dagster kind: postgres when SKILLATLAS_WAREHOUSE_URL (or
    SKILLATLAS_ENV=production) points at PostgreSQL, else the embedded sqlite."""
    try:
        knobs = load_settings()
    except SettingsError:  # reported by whoever needs the bad value (resources, the CLI command), not at import
        return "sqlite"
    if (knobs.warehouse_url or "").startswith("postgres") or knobs.env == "production":
        return "postgres"
    return "sqlite"


def table_kinds() -> set[str]:
    """Kinds of a warehouse table asset: where it is stored, and that it is computed as a pandas frame."""
    return {warehouse_kind(), "pandas"}


def _col(name: str, type_: str, description: str, allowed: Sequence[str] | None = None, *,
         nullable: bool = True, unique: bool = False) -> dg.TableColumn:
    other = [f"one of: {', '.join(allowed)}"] if allowed else []
    return dg.TableColumn(
        name=name,
        type=type_,
        description=description,
        constraints=dg.TableColumnConstraints(nullable=nullable, unique=unique, other=other),
    )


def _schema(columns: Sequence[str], *described: dg.TableColumn) -> dg.TableSchema:
    """The schema of a table whose columns `skillatlas.store.tables` lists: every listed column described once,
    in the listed order (a column added there without a description here fails at import)."""
    by_name = {c.name: c for c in described}
    if sorted(by_name) != sorted(columns) or len(by_name) != len(described):
        raise ValueError(f"described columns {sorted(by_name)} do not match the table's columns {list(columns)}")
    return dg.TableSchema(columns=[by_name[c] for c in columns])


KINDS = ("course", "job")
BATCH = _col("batch_id", "text", "Upload batch (partition key), e.g. b20261201-0001.", nullable=False)
DOC = _col("doc_id", "text", "Document id: stable hash of the uploaded file's content.", nullable=False)
SKILL = _col("skill_id", "text", "Taxonomy skill id: esco:<uuid> or onet:<slug>.", nullable=False)
LABEL = _col("label", "text", "Preferred label of the skill.")
SOC = _col("soc_code", "text", r"O\*NET-SOC occupation code, e.g. 29-1141.00.", nullable=False)
KIND = _col("kind", "text", "Document kind, from the inbox folder.", KINDS, nullable=False)
ITEM = _col("item", "text", "The document's path in the inbox.")
EXTRACTOR_VERSION = _col("extractor_version", "text", "Extractor version (model, prompt, taxonomy) that produced it.")


def _run_columns(what: str) -> tuple[dg.TableColumn, dg.TableColumn]:
    """``run_id`` and ``run_url`` of the run that ``what`` (e.g. "recorded the failure")."""
    return (_col("run_id", "text", f"Run that {what}."), _col("run_url", "text", "Link to that run in the Dagster UI."))

def score_schema(source_col: str, source: str, target: str, target_desc: str) -> dg.TableSchema:
    """The alignment score tables share one shape (`skillatlas.score.alignment.SCORE_COLUMNS`)."""
    return dg.TableSchema(columns=[
        _col(source_col, "text", f"{source} document id (document_text.doc_id).", nullable=False),
        _col("target_id", "text", f"{target_desc}.", nullable=False),
        _col("score", "float", "Alignment score in [0, 1] (IDF-weighted overlap blended with semantic).",
             nullable=False),
        _col("overlap_score", "float", "IDF-weighted skill overlap part, in [0, 1]."),
        _col("semantic_score", "float", "Skill-embedding similarity part, in [0, 1]."),
        _col("rank", "int", f"Rank of the {target} for the {source.lower()}, 1 = best (top 200 kept)."),
        _col("tier", "text", TIER_RULE, ["A", "B", "C"]),
        _col("shared_skills", "text", "Shared skills that explain the score (labels, '; ')."),
        _col("gap_skills", "text", f"Skills the {target} needs that the {source.lower()} lacks (labels, '; ')."),
    ])


SCHEMAS: dict[str, dg.TableSchema] = {
    tables.SKILL_TAXONOMY: dg.TableSchema(columns=[
        _col("skill_id", "text", "Stable skill id: esco:<uuid> or onet:<slug>.", nullable=False, unique=True),
        LABEL,
        _col("source", "text", r"Where the skill comes from: ESCO v1.1.1 or O\*NET technology skills.",
             ["esco", "onet_tech"], nullable=False),
        _col("aliases", "json text", "JSON list of normalised labels the extractor matches (includes the label)."),
        _col("description", "text", "ESCO description (empty for most O\\*NET skills)."),
        _col("esco_uri", "text", "ESCO concept URI (ESCO rows only)."),
        _col("same_as", "text", r"For an O\*NET skill naming an ESCO skill: that ESCO skill id."),
        _col("skill_type", "text", "ESCO skill type (ESCO rows only).", ["skill/competence", "knowledge"]),
        _col("reuse_level", "text", "ESCO reuse level (ESCO rows only).",
             ["transversal", "cross-sector", "sector-specific", "occupation-specific"]),
        _col("hot_technology", "bool", r"O\*NET Hot Technology flag (O\*NET rows)."),
    ]),
    tables.ONET_OCCUPATIONS: dg.TableSchema(columns=[
        _col("soc_code", "text", r"O\*NET-SOC code, e.g. 29-1141.00.", nullable=False, unique=True),
        _col("title", "text", "Occupation title.", nullable=False),
        _col("description", "text", "Occupation description."),
        _col("job_zone", "int", "Preparation needed, 1 (little) to 5 (extensive); null when not rated.",
             ["1", "2", "3", "4", "5"]),
        _col("alternate_titles", "text", "Up to 40 alternate titles joined with '; ' (used by search)."),
    ]),
    tables.ONET_TEXT_SKILLS: dg.TableSchema(columns=[
        SOC, SKILL,
        _col("confidence", "float", "Best phrase-match confidence in the description and tasks, in [0.5, 1]."),
    ]),
    tables.DOCUMENT_TEXT: _schema(
        tables.TEXT_COLUMNS,
        _col("relpath", "text", "Path of the upload inside the inbox, e.g. jobs/nurse-042.pdf.", nullable=False),
        _col("format", "text", "File format the text was parsed from.", ["pdf", "docx", "html", "txt"]),
        _col("title", "text", "Title found in the document (else the file name)."),
        _col("posted_date", "text", "Posting day of a job posting (ISO date), null when none was found."),
        _col("sha256", "text", "SHA-256 of the uploaded bytes."),
        _col("char_count", "int", "Characters of extracted text."),
        _col("truncated", "bool", "True when the text was cut at the size limit."),
        _col("text", "text", "Extracted plain text."),
        BATCH, DOC, KIND,
    ),
    tables.DOCUMENT_SKILLS: _schema(
        tables.SKILL_COLUMNS, BATCH, DOC, KIND, SKILL, LABEL,
        _col("confidence", "float", "Extraction confidence in [0, 1].", nullable=False),
        _col("method", "text", "What found the skill: a taxonomy phrase, a detected skill span linked by "
             "similarity, or the LLM.", ["phrase", "semantic", "llm"], nullable=False),
        _col("evidence_start", "int", "Character offset where the evidence starts in document_text.text."),
        _col("evidence_end", "int", "Character offset where the evidence ends (exclusive)."),
        _col("evidence", "text", "The evidence as written in the document, e.g. a clause such as 'work closely "
             "with stakeholders' (at most 500 characters)."),
        _col("occurrences", "text", "Every occurrence of the skill in the document: a JSON list of [start, end] "
             "character offsets into document_text.text (the evidence columns hold the best one)."),
        EXTRACTOR_VERSION,
    ),
    tables.SOC_SKILL_MAP: dg.TableSchema(columns=[
        SOC, SKILL, LABEL,
        _col("weight", "float", "Importance of the skill for the occupation, in (0, 1].", nullable=False),
        _col("source", "text", "Strongest source of the link.",
             ["onet_tech", "esco_essential", "esco_optional", "onet_text", "soc_family"]),
        _col("sources", "text", "All sources of the link, comma-separated."),
        _col("hot_technology", "bool", r"O\*NET Hot Technology flag."),
        _col("in_demand", "bool", r"O\*NET In Demand flag."),
    ]),
    tables.SKILL_MERGE_MAP: dg.TableSchema(columns=[
        _col("skill_id", "text", "A skill merged into a cluster.", nullable=False),
        _col("canonical_id", "text", "The cluster's canonical skill (the one scores use).", nullable=False),
        _col("similarity", "float", "Cosine similarity to the canonical skill, in [threshold, 1]."),
        _col("cluster_id", "text", "Cluster id."),
        LABEL,
        _col("canonical_label", "text", "Label of the canonical skill."),
        _col("valid_from", "text", "When the merge was first made (ISO time)."),
        _col("undone_at", "text", "When an operator undid the merge (undo_skill_merge_job); null while active."),
    ]),
    tables.COURSE_OCCUPATION_SCORES: score_schema(
        "course_id", "Course", "occupation", r"O\*NET-SOC code of the occupation"
    ),
    tables.COURSE_JOB_SCORES: score_schema("course_id", "Course", "posting", "Job posting document id"),
    tables.JOB_OCCUPATION_SCORES: score_schema(
        "job_id", "Job posting", "occupation", r"O\*NET-SOC code of the occupation"
    ),
    tables.SKILLS_REVIEW_QUEUE: _schema(
        tables.REVIEW_COLUMNS,
        _col("review_id", "text", "Stable id of the entry (batch, document, reason, run).", nullable=False),
        _col("reason", "text", "Why a human must look: invalid model output, ungrounded skills, grey-zone confidence.",
             [REVIEW_INVALID_OUTPUT, REVIEW_UNGROUNDED, REVIEW_GREY_ZONE]),
        _col("proposed_skills", "text", "Skills the model proposed (JSON: skill id, label, confidence, offsets)."),
        _col("status", "text", "Review state; review_skills_job accepts or rejects.",
             ["pending", "accepted", "rejected"]),
        _col("created_at", "text", "When it was queued (UTC, ISO 8601)."),
        _col("decided_at", "text", "When it was accepted or rejected."),
        _col("decided_by", "text", "Who decided (run config of review_skills_job)."),
        _col("note", "text", "The reviewer's note."),
        BATCH, DOC, ITEM, EXTRACTOR_VERSION, *_run_columns("queued the entry"),
    ),
    tables.SKILL_DEMAND_DAILY: _schema(
        tables.SKILL_DEMAND_DAILY_COLUMNS,
        _col("day", "text", "Posting day (ISO date; the partition key).", nullable=False),
        SKILL, LABEL,
        _col("postings", "int", "Job postings of the day that ask for the skill."),
        _col("share", "float", "postings / postings of the day with any skill, in [0, 1]."),
    ),
    tables.SKILL_DEMAND_TRENDS: dg.TableSchema(columns=[
        _col("day", "text", "Day (ISO date).", nullable=False),
        SKILL, LABEL,
        _col("postings", "int", "Postings that day."),
        _col("postings_7d", "int", "Postings in the trailing 7 days."),
        _col("postings_30d", "int", "Postings in the trailing 30 days."),
        _col("total_7d", "int", "All postings (with any skill) in the trailing 7 days."),
        _col("total_30d", "int", "All postings in the trailing 30 days."),
        _col("share_7d", "float", "postings_7d / total_7d."),
        _col("share_30d", "float", "postings_30d / total_30d."),
        _col("baseline_postings", "int", "Postings in the 7 days before the recent window."),
        _col("baseline_total", "int", "All postings in that baseline window."),
        _col("growth", "float", "log2 of the recent share over the baseline share (smoothed)."),
        _col("rising", "bool", "Enough postings and growth >= log2(1.5)."),
    ]),
    tables.RISING_VS_HOT_TECHNOLOGIES: dg.TableSchema(columns=[
        _col("day", "text", "The day compared (latest day of the trends)."),
        SKILL, LABEL,
        _col("rising", "bool", "Rising in job postings on that day."),
        _col("hot_technology", "bool", r"O\*NET Hot Technology flag."),
        _col("in_demand", "bool", r"O\*NET In Demand flag."),
        _col("growth", "float", "Growth (see skill_demand_trends)."),
        _col("postings_recent", "int", "Postings in the recent window."),
        _col("category", "text", "Rising and hot, rising only, or hot only.", ["both", "rising_only", "hot_only"]),
    ]),
    tables.PIPELINE_HEALTH: dg.TableSchema(columns=[
        _col("window", "text", "Runs that ended in this window before as_of.", ["1h", "24h", "7d"]),
        _col("job_name", "text", "Dagster job."),
        _col("runs", "int", "Runs that ended in the window (any status)."),
        _col("succeeded", "int", "Of those, SUCCESS."),
        _col("failed", "int", "FAILURE after the run started (counted in the failure rate)."),
        _col("canceled", "int", "CANCELED (an operator's decision; not in the failure rate)."),
        _col("launch_failures", "int", "FAILURE before the run started (launch or run worker; not in the rate)."),
        _col("failure_rate", "float", "failed / (succeeded + failed), in [0, 1]."),
        _col("run_retries", "int", "Runs that were retries of another run (dagster/retry_number > 0)."),
        _col("step_retries", "int", "Step attempts up for retry (RetryPolicy) in those runs."),
        _col("p50_queue_wait_s", "float", "Median seconds from run creation to start."),
        _col("p95_queue_wait_s", "float", "95th percentile of the queue wait, seconds."),
        _col("p50_run_time_s", "float", "Median seconds from start to end."),
        _col("p95_run_time_s", "float", "95th percentile of the run time, seconds."),
        _col("queued", "int", "Runs of the job waiting now (QUEUED, NOT_STARTED, STARTING)."),
        _col("running", "int", "Runs of the job running now."),
        _col("oldest_queued_age_s", "float", "Seconds the oldest waiting run has waited."),
        _col("oldest_running_age_s", "float", "Seconds the oldest running run has run (a stuck-run signal)."),
        _col("as_of", "text", "When these figures were computed (ISO time, UTC)."),
    ]),
    tables.FAILED_ITEMS: _schema(
        [*tables.LEDGER_COLUMNS, "run_url"],
        _col("asset", "text", "Asset whose item failed.", [tables.DOCUMENT_TEXT, tables.DOCUMENT_SKILLS]),
        _col("partition", "text", "Upload batch of the item."),
        _col("error_kind", "text", "Error class, e.g. invalid_format, no_extractable_text, file_not_found."),
        _col("message", "text", "The error message (at most 2,000 characters)."),
        _col("transient", "bool", "True when a retry may succeed (I/O, rate limit, timeout)."),
        _col("attempts", "int", "Attempts so far (retry_failed_items_job adds one each)."),
        _col("failed_at", "text", "When (ISO time, UTC)."),
        ITEM, *_run_columns("recorded the failure"),
    ),
}


def table_metadata(table: str, **extra: Any) -> dict[str, Any]:
    """Definition metadata of a warehouse table asset: its column schema plus `extra`."""
    return {"dagster/column_schema": SCHEMAS[table], **extra}


def table_asset(
    table: str, group: str, queue: str, *, partition_expr: str | None = None, owners: Sequence[str] = DATA_OWNERS,
    **asset_args: Any,
) -> Any:
    """The `@dg.asset` decorator of a warehouse table asset: its group, run queue, storage kinds, owners and
    column schema (plus `partition_expr` for a partitioned table, and any other `dg.asset` argument)."""
    extra = {"partition_expr": partition_expr} if partition_expr else {}
    return dg.asset(
        group_name=group, kinds=table_kinds(), owners=list(owners), metadata=table_metadata(table, **extra),
        tags={"skillatlas/queue": queue}, **asset_args,
    )


# ------------------------------------------------------------------------------------------------ previews


def _md_escape(value: object) -> str:
    return str(value).replace("|", "\\|").replace("*", "\\*").replace("\n", " ")


def top_skills_preview(skills: pd.DataFrame, per_batch: int = 10, batches: int = 3) -> str:
    """The skills found in the most documents, per batch (at most `batches` batches)."""
    if skills.empty:
        return "_no skills found_"
    parts = []
    for batch_id, group in list(skills.groupby("batch_id", sort=True))[:batches]:
        top = (
            group.groupby(["skill_id", "label"])["doc_id"].nunique().sort_values(ascending=False).head(per_batch)
        )
        lines = [f"**{_md_escape(batch_id)}** ({group['doc_id'].nunique()} documents)", "",
                 "| skill | documents |", "|---|---|"]
        lines += [f"| {_md_escape(label)} | {count} |" for (_sid, label), count in top.items()]
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def top_occupations_preview(scores: pd.DataFrame, courses: int = 5, per_course: int = 3) -> str:
    """The best few occupations of the first few courses."""
    if scores.empty:
        return "_no scores_"
    try:
        from skillatlas.reference.sources import load_onet_occupations

        titles = dict(zip(*(load_onet_occupations()[c].astype(str) for c in ("soc_code", "title")), strict=True))
    except Exception:  # noqa: BLE001 - a preview without titles is still a preview
        titles = {}
    lines = ["| course | occupation | score | tier |", "|---|---|---|---|"]
    for course_id in sorted(scores["course_id"].unique())[:courses]:
        best = scores[scores["course_id"] == course_id].sort_values(["score", "target_id"], ascending=[False, True])
        for row in best.head(per_course).itertuples(index=False):
            title = titles.get(str(row.target_id), "")
            lines.append(
                f"| {_md_escape(course_id)} | {_md_escape(row.target_id)} {_md_escape(title)} | "
                f"{float(row.score):.3f} | {row.tier} |"
            )
    return "\n".join(lines)


PREVIEWS = {
    tables.DOCUMENT_SKILLS: ("top_skills", top_skills_preview),
    tables.COURSE_OCCUPATION_SCORES: ("top_occupations", top_occupations_preview),
}


def table_preview(table: str, frame: pd.DataFrame) -> dict[str, Any]:
    """Markdown preview metadata for `table` (empty for tables without one)."""
    if table not in PREVIEWS:
        return {}
    key, render = PREVIEWS[table]
    return {key: dg.MetadataValue.md(render(frame))}


def schema_differences(schema: dg.TableSchema, columns: Sequence[str]) -> Mapping[str, list[str]]:
    declared = [c.name for c in schema.columns]
    return {
        "undeclared": [c for c in columns if c not in declared],
        "missing": [c for c in declared if c not in columns],
    }
