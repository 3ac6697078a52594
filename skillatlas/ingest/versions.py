"""Document versions: a document is its path in the inbox; each registration of new bytes at that path is a
version (its `doc_id` is the content's id). When a batch ingests a version, every older version of the same
path leaves the live tables (`document_text`, `document_skills`, and so the scores, trends and index built from
them) and is kept in the superseded-history tables, from which it can be restored.

Pure functions over manifest / text frames; the Dagster layer moves the rows in one transaction.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["older_versions", "registration_order"]


def registration_order(manifest: pd.DataFrame) -> pd.Series:
    """A sortable key per manifest row: registration time, then batch id (ids sort by creation time)."""
    return manifest["registered_at"].astype(str) + "|" + manifest["batch_id"].astype(str)


def older_versions(manifest: pd.DataFrame, text: pd.DataFrame, batch_ids: list[str]) -> pd.DataFrame:
    """The `text` rows (batch_id, doc_id, relpath) that hold an older version of a path the `batch_ids` register.

    `manifest`: every registration of those paths (batch_id, relpath, registered_at); `text`: the live
    `document_text` rows of those paths. A row is older when its batch registered the path before the newest
    of `batch_ids` that registers it; rows of the ingesting batches themselves are never returned.
    """
    empty = pd.DataFrame(columns=["batch_id", "doc_id", "relpath"])
    if manifest.empty or text.empty:
        return empty
    manifest = manifest.assign(_order=registration_order(manifest))
    ingesting = manifest[manifest["batch_id"].isin(batch_ids)]
    newest = ingesting.groupby("relpath")["_order"].max()
    registered = manifest.set_index(["batch_id", "relpath"])["_order"]
    rows = []
    for row in text.itertuples(index=False):
        if row.batch_id in batch_ids or row.relpath not in newest.index:
            continue
        order = registered.get((row.batch_id, row.relpath))
        # a live row whose registration is unknown (manifest trimmed by hand) is older than any new version
        if order is None or order < newest[row.relpath]:
            rows.append({"batch_id": row.batch_id, "doc_id": row.doc_id, "relpath": row.relpath})
    return pd.DataFrame(rows, columns=empty.columns) if rows else empty
