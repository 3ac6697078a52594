"""Retiring and restoring superseded document versions (see `skillatlas.ingest.versions` for which rows are
older): one transaction each, SQLAlchemy Core only. `document_text` retires the older versions once the batch's
own rows are committed; `restore_version(engine, relpath, batch_id)` rolls a path back."""

from __future__ import annotations

import sqlalchemy as sa

from skillatlas.ingest.versions import older_versions
from skillatlas.store.sql import delete_rows, read_rows, reflect_table, utc_now_iso, write_frame
from skillatlas.store.tables import (
    DOCUMENT_SKILLS,
    DOCUMENT_TEXT,
    SUPERSEDED_DOCUMENT_SKILLS,
    SUPERSEDED_DOCUMENT_TEXT,
    UPLOAD_MANIFEST,
)

__all__ = ["restore_version", "retire_superseded_versions"]


def retire_superseded_versions(engine: sa.Engine, batch_ids: list[str], run_id: str) -> int:
    """Move the older versions of the paths these batches register out of `document_text` and
    `document_skills` into the superseded-history tables. Returns the number of documents retired."""
    with engine.begin() as conn:
        manifest = read_rows(conn, UPLOAD_MANIFEST, {"batch_id": batch_ids})
        if manifest.empty:
            return 0
        relpaths = sorted(set(manifest["relpath"]))
        all_versions = read_rows(conn, UPLOAD_MANIFEST, {"relpath": relpaths})
        live = read_rows(conn, DOCUMENT_TEXT, {"relpath": relpaths})
        old = older_versions(all_versions, live, batch_ids)
        if old.empty:
            return 0
        stamp = {"superseded_at": utc_now_iso(), "superseded_by_run": run_id}
        newest = all_versions[all_versions["batch_id"].isin(batch_ids)].set_index("relpath")["batch_id"]
        for batch_id, group in old.groupby("batch_id"):
            text_rows = live[(live["batch_id"] == batch_id) & live["doc_id"].isin(group["doc_id"])]
            by = text_rows["relpath"].map(newest)
            write_frame(conn, SUPERSEDED_DOCUMENT_TEXT, text_rows.assign(superseded_by_batch=by, **stamp))
            delete_rows(conn, DOCUMENT_TEXT, {"batch_id": batch_id, "doc_id": list(group["doc_id"])})
            skills = read_rows(conn, DOCUMENT_SKILLS, {"batch_id": batch_id, "doc_id": list(group["doc_id"])})
            if not skills.empty:
                write_frame(conn, SUPERSEDED_DOCUMENT_SKILLS, skills.assign(**stamp))
                delete_rows(conn, DOCUMENT_SKILLS, {"batch_id": batch_id, "doc_id": list(group["doc_id"])})
        return len(old)


def restore_version(engine: sa.Engine, relpath: str, batch_id: str) -> int:
    """Roll a path back to the version that `batch_id` registered: its rows return from the superseded-history
    tables and the live version of the path takes their place there (so a restore can itself be undone).
    Returns the number of text rows restored."""
    with engine.begin() as conn:
        kept = read_rows(conn, SUPERSEDED_DOCUMENT_TEXT, {"relpath": relpath, "batch_id": batch_id})
        if kept.empty:
            raise KeyError(f"no superseded version of {relpath!r} from batch {batch_id!r}")
        kept = kept.sort_values("superseded_at").tail(1)
        doc_id = str(kept["doc_id"].iloc[0])
        skills = read_rows(conn, SUPERSEDED_DOCUMENT_SKILLS, {"batch_id": batch_id, "doc_id": doc_id})
        stamp = {"superseded_at": utc_now_iso(), "superseded_by_run": "restore"}
        live = read_rows(conn, DOCUMENT_TEXT, {"relpath": relpath})
        for row in live.itertuples(index=False):
            live_skills = read_rows(conn, DOCUMENT_SKILLS, {"batch_id": row.batch_id, "doc_id": row.doc_id})
            write_frame(conn, SUPERSEDED_DOCUMENT_TEXT, live[live["doc_id"] == row.doc_id].assign(
                superseded_by_batch=batch_id, **stamp))
            if not live_skills.empty:
                write_frame(conn, SUPERSEDED_DOCUMENT_SKILLS, live_skills.assign(**stamp))
            delete_rows(conn, DOCUMENT_TEXT, {"batch_id": row.batch_id, "doc_id": row.doc_id})
            delete_rows(conn, DOCUMENT_SKILLS, {"batch_id": row.batch_id, "doc_id": row.doc_id})
        text_columns = [c.name for c in reflect_table(conn, DOCUMENT_TEXT).c]  # type: ignore[union-attr]
        write_frame(conn, DOCUMENT_TEXT, kept[text_columns])
        delete_rows(conn, SUPERSEDED_DOCUMENT_TEXT, {"relpath": relpath, "batch_id": batch_id, "doc_id": doc_id})
        if not skills.empty:
            skill_table = reflect_table(conn, DOCUMENT_SKILLS)
            columns = [c.name for c in skill_table.c] if skill_table is not None else [
                c for c in skills.columns if c not in ("superseded_at", "superseded_by_run")]
            write_frame(conn, DOCUMENT_SKILLS, skills[columns].drop_duplicates())
            delete_rows(conn, SUPERSEDED_DOCUMENT_SKILLS, {"batch_id": batch_id, "doc_id": doc_id})
        return len(kept)

