"""Retiring superseded document versions (see skillatlas.ingest.versions): one transaction per ingest, called by
document_text once the batch's own rows are decided."""

from __future__ import annotations

from resources.warehouse import WarehouseResource, delete_rows, read_rows, reflect_table, utc_now_iso, write_frame
from skillatlas.ingest.versions import older_versions

MANIFEST_TABLE = "upload_manifest"
TEXT_TABLE = "document_text"
SKILLS_TABLE = "document_skills"
SUPERSEDED_TEXT = "superseded_document_text"
SUPERSEDED_SKILLS = "superseded_document_skills"


def retire_superseded_versions(warehouse: WarehouseResource, batch_ids: list[str], run_id: str) -> int:
    """Move the older versions of the paths these batches register out of `document_text` and
    `document_skills` into the superseded-history tables. Returns the number of documents retired."""
    with warehouse.engine.begin() as conn:
        manifest = read_rows(conn, MANIFEST_TABLE, {"batch_id": batch_ids})
        if manifest.empty:
            return 0
        relpaths = sorted(set(manifest["relpath"]))
        all_versions = read_rows(conn, MANIFEST_TABLE, {"relpath": relpaths})
        live = read_rows(conn, TEXT_TABLE, {"relpath": relpaths})
        old = older_versions(all_versions, live, batch_ids)
        if old.empty:
            return 0
        stamp = {"superseded_at": utc_now_iso(), "superseded_by_run": run_id}
        newest = all_versions[all_versions["batch_id"].isin(batch_ids)].set_index("relpath")["batch_id"]
        for batch_id, group in old.groupby("batch_id"):
            text_rows = live[(live["batch_id"] == batch_id) & live["doc_id"].isin(group["doc_id"])]
            by = text_rows["relpath"].map(newest)
            write_frame(conn, SUPERSEDED_TEXT, text_rows.assign(superseded_by_batch=by, **stamp))
            delete_rows(conn, TEXT_TABLE, {"batch_id": batch_id, "doc_id": list(group["doc_id"])})
            skills = read_rows(conn, SKILLS_TABLE, {"batch_id": batch_id, "doc_id": list(group["doc_id"])})
            if not skills.empty:
                write_frame(conn, SUPERSEDED_SKILLS, skills.assign(**stamp))
                delete_rows(conn, SKILLS_TABLE, {"batch_id": batch_id, "doc_id": list(group["doc_id"])})
        return len(old)


def restore_version(warehouse: WarehouseResource, relpath: str, batch_id: str) -> int:
    """Roll a path back to the version that `batch_id` registered: its rows return from the superseded-history
    tables and the live version of the path takes their place there (so a restore can itself be undone).
    Returns the number of text rows restored."""
    with warehouse.engine.begin() as conn:
        kept = read_rows(conn, SUPERSEDED_TEXT, {"relpath": relpath, "batch_id": batch_id})
        if kept.empty:
            raise KeyError(f"no superseded version of {relpath!r} from batch {batch_id!r}")
        kept = kept.sort_values("superseded_at").tail(1)
        doc_id = str(kept["doc_id"].iloc[0])
        skills = read_rows(conn, SUPERSEDED_SKILLS, {"batch_id": batch_id, "doc_id": doc_id})
        stamp = {"superseded_at": utc_now_iso(), "superseded_by_run": "restore"}
        live = read_rows(conn, TEXT_TABLE, {"relpath": relpath})
        for row in live.itertuples(index=False):
            live_skills = read_rows(conn, SKILLS_TABLE, {"batch_id": row.batch_id, "doc_id": row.doc_id})
            write_frame(conn, SUPERSEDED_TEXT, live[live["doc_id"] == row.doc_id].assign(
                superseded_by_batch=batch_id, **stamp))
            if not live_skills.empty:
                write_frame(conn, SUPERSEDED_SKILLS, live_skills.assign(**stamp))
            delete_rows(conn, TEXT_TABLE, {"batch_id": row.batch_id, "doc_id": row.doc_id})
            delete_rows(conn, SKILLS_TABLE, {"batch_id": row.batch_id, "doc_id": row.doc_id})
        text_columns = [c.name for c in reflect_table(conn, TEXT_TABLE).c]  # type: ignore[union-attr]
        write_frame(conn, TEXT_TABLE, kept[text_columns])
        delete_rows(conn, SUPERSEDED_TEXT, {"relpath": relpath, "batch_id": batch_id, "doc_id": doc_id})
        if not skills.empty:
            skill_table = reflect_table(conn, SKILLS_TABLE)
            columns = [c.name for c in skill_table.c] if skill_table is not None else [
                c for c in skills.columns if c not in ("superseded_at", "superseded_by_run")]
            write_frame(conn, SKILLS_TABLE, skills[columns].drop_duplicates())
            delete_rows(conn, SUPERSEDED_SKILLS, {"batch_id": batch_id, "doc_id": doc_id})
        return len(kept)

