"""Near-duplicate sweep over skill embeddings.

Pairs with cosine >= ``threshold`` (default 0.95) are found with a blocked matrix product (each block of
rows against the rows after it: upper triangle only, ``block_size`` x n floats of memory; an exact
low-dimensional upper-bound screen skips most of the work, see :func:`similar_pairs`) and grouped with
``scipy.sparse.csgraph.connected_components`` (single linkage: A~B and B~C puts A, B, C in one cluster).

Winner ("canonical") per cluster, first rule that separates:
1. ESCO over O*NET (``source == "esco"``; ESCO ids are the reference vocabulary of the other tables),
2. more aliases (a richer concept collects more surface forms),
3. shorter label (the generic name, "Python" over "Python programming language"),
4. smallest ``skill_id`` (deterministic).

The merge map has one row per member of a non-singleton cluster, including the winner (mapped to itself,
similarity 1.0): ``skill_id, canonical_id, similarity`` (cosine to the winner), ``cluster_id``, ``label``,
``canonical_label``, ``valid_from`` and ``undone_at`` (ISO timestamps; ``undone_at`` is empty while the
merge is active). Undoing keeps history: rows are never deleted, only stamped ``undone_at``.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

__all__ = [
    "MERGE_MAP_COLUMNS",
    "active_merges",
    "apply_merge_map",
    "carry_over_undone",
    "find_near_duplicates",
    "similar_pairs",
    "undo_merge",
]

MERGE_MAP_COLUMNS = [
    "skill_id",
    "canonical_id",
    "similarity",
    "cluster_id",
    "label",
    "canonical_label",
    "valid_from",
    "undone_at",
]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _normalise(vectors: np.ndarray) -> np.ndarray:
    v = np.asarray(vectors, dtype=np.float32)
    if v.ndim != 2:
        raise ValueError("vectors must be a 2-D array")
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    out = np.zeros_like(v)
    np.divide(v, norms, out=out, where=norms > 0)
    return out


def _screen_basis(v: np.ndarray, dims: int, sample: int = 4000, seed: int = 0) -> np.ndarray:
    """Orthonormal (d, dims) basis: top eigenvectors of the (uncentred) Gram matrix of a row sample."""
    rng = np.random.default_rng(seed)
    rows = v if len(v) <= sample else v[rng.choice(len(v), sample, replace=False)]
    rows64 = rows.astype(np.float64)
    _, vecs = np.linalg.eigh(rows64.T @ rows64)  # ascending eigenvalues
    return np.ascontiguousarray(vecs[:, ::-1][:, :dims], dtype=np.float32)


def similar_pairs(
    vectors: np.ndarray,
    threshold: float = 0.95,
    *,
    block_size: int = 2048,
    screen_dims: int | None = 32,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All pairs ``i < j`` with cosine >= threshold, as arrays (i, j, cosine). Exact.

    Blocked: rows ``[lo, hi)`` are compared with rows ``[lo, n)`` only (upper triangle), memory is
    ``block_size * n`` floats. With ``screen_dims`` (and ``d > 2 * screen_dims``), each block is first
    screened in a ``screen_dims``-d projection P onto the top singular directions, with the exact bound
    ``a.b <= P(a).P(b) + |R(a)| |R(b)|`` (R = residual outside the projection); only candidates passing the
    bound get the full-dimensional dot product. On MiniLM skill labels ~1e-4 of pairs pass at 0.95, so the
    screen is a small GEMM. A block with too many candidates (or a threshold < 0.9) uses the full product.
    """
    v = _normalise(vectors)
    n, d = v.shape
    # the bound is selective only for high thresholds; below 0.9 the full product is cheaper
    screened = screen_dims is not None and d > 2 * screen_dims and n > block_size and threshold >= 0.9
    if screened:
        assert screen_dims is not None
        proj = v @ _screen_basis(v, screen_dims)
        resid = np.sqrt(np.maximum(0.0, 1.0 - np.einsum("ij,ij->i", proj, proj)))
        # [P(a), |R(a)|] . [P(b), |R(b)|] = P(a).P(b) + |R(a)||R(b)| >= a.b: the bound is one small GEMM
        aug = np.ascontiguousarray(np.hstack([proj, resid[:, None]]), dtype=np.float32)
        slack = 1e-4  # float32 rounding margin: the screen must never drop a true pair
    ii: list[np.ndarray] = []
    jj: list[np.ndarray] = []
    ss: list[np.ndarray] = []
    for lo in range(0, n, block_size):
        hi = min(lo + block_size, n)
        if screened:
            bound = aug[lo:hi] @ aug[lo:].T
            r, c = np.nonzero(bound >= threshold - slack)
            keep = c > r
            r, c = r[keep], c[keep]
            if len(r) <= 0.002 * bound.size:
                sims = np.einsum("ij,ij->i", v[r + lo], v[c + lo])
                ok = sims >= threshold
                ii.append(r[ok] + lo)
                jj.append(c[ok] + lo)
                ss.append(sims[ok])
                continue
        sims_b = v[lo:hi] @ v[lo:].T  # (hi - lo, n - lo)
        r, c = np.nonzero(sims_b >= threshold)
        keep = c > r  # strictly above the diagonal (column offset lo == row offset lo)
        r, c = r[keep], c[keep]
        ii.append(r + lo)
        jj.append(c + lo)
        ss.append(sims_b[r, c])
    if not ii:
        z = np.zeros(0, dtype=np.int64)
        return z, z, np.zeros(0, dtype=np.float32)
    return np.concatenate(ii), np.concatenate(jj), np.concatenate(ss)


def find_near_duplicates(
    skills: pd.DataFrame,
    vectors: np.ndarray,
    *,
    threshold: float = 0.95,
    block_size: int = 2048,
    screen_dims: int | None = 32,
    previous: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Cluster near-duplicate skills and return the merge map (see module docstring).

    ``skills`` is row-aligned with ``vectors`` and has ``skill_id`` plus optionally ``label``, ``source`` and
    ``aliases`` (list) used by the winner rule. ``previous``: an earlier merge map; merges that were undone
    there stay undone (see :func:`carry_over_undone`).
    """
    if len(skills) != len(vectors):
        raise ValueError(f"skills ({len(skills)}) and vectors ({len(vectors)}) are not row-aligned")
    if not 0.0 < threshold <= 1.0:
        raise ValueError("threshold must be in (0, 1]")
    n = len(skills)
    if n == 0:
        return _empty_map()
    v = _normalise(vectors)
    i, j, _ = similar_pairs(v, threshold, block_size=block_size, screen_dims=screen_dims)
    graph = sp.coo_matrix((np.ones(len(i), dtype=np.int8), (i, j)), shape=(n, n))
    _, labels_cc = connected_components(graph, directed=False)
    sizes = np.bincount(labels_cc)
    in_cluster = sizes[labels_cc] > 1
    if not in_cluster.any():
        return _empty_map()

    ids = skills["skill_id"].astype(str).to_numpy()
    label = (skills["label"].astype(str) if "label" in skills.columns else skills["skill_id"].astype(str))
    label_arr = label.to_numpy()
    if "source" in skills.columns:
        is_esco = skills["source"].astype(str).eq("esco").to_numpy()
    else:
        is_esco = np.zeros(n, dtype=bool)
    if "aliases" in skills.columns:
        n_alias = skills["aliases"].map(lambda a: len(a) if isinstance(a, list | tuple | np.ndarray) else 0)
        n_alias_arr = n_alias.to_numpy(np.int64)
    else:
        n_alias_arr = np.zeros(n, dtype=np.int64)
    label_len = label.str.len().to_numpy(np.int64)

    members = np.flatnonzero(in_cluster)
    cc = labels_cc[members]
    # winner = first member per component under (esco desc, aliases desc, label length asc, id asc)
    id_rank = pd.Series(ids[members]).rank(method="first").to_numpy()
    order = np.lexsort((id_rank, label_len[members], -n_alias_arr[members], ~is_esco[members], cc))
    first = np.r_[True, cc[order][1:] != cc[order][:-1]]
    winners_by_cc = pd.Series(members[order][first], index=cc[order][first])
    winner = winners_by_cc.reindex(cc).to_numpy()
    similarity = np.einsum("ij,ij->i", v[members], v[winner]).astype(np.float64)
    similarity[members == winner] = 1.0
    # cluster ids: stable, named after the canonical skill
    out = pd.DataFrame(
        {
            "skill_id": ids[members],
            "canonical_id": ids[winner],
            "similarity": np.clip(similarity, -1.0, 1.0),
            "cluster_id": ["dup:" + x for x in ids[winner]],
            "label": label_arr[members],
            "canonical_label": label_arr[winner],
            "valid_from": _now(),
            "undone_at": None,
        }
    )
    out["undone_at"] = out["undone_at"].astype(object)
    out = out.sort_values(["cluster_id", "similarity", "skill_id"], ascending=[True, False, True],
                          kind="stable").reset_index(drop=True)
    if previous is not None and len(previous):
        out = carry_over_undone(out, previous)
    return out


def _empty_map() -> pd.DataFrame:
    out = pd.DataFrame({c: pd.Series(dtype=object) for c in MERGE_MAP_COLUMNS})
    out["similarity"] = out["similarity"].astype(np.float64)
    return out


def active_merges(merge_map: pd.DataFrame) -> pd.DataFrame:
    """Rows currently in force: not undone and not identity rows."""
    active = merge_map["undone_at"].isna() & (merge_map["skill_id"] != merge_map["canonical_id"])
    return merge_map[active]


def apply_merge_map(
    df: pd.DataFrame, merge_map: pd.DataFrame, column: str = "skill_id", *, original_column: str | None = None
) -> pd.DataFrame:
    """Return a copy of ``df`` with ``column`` rewritten to canonical ids (active merges only).

    ``original_column``: if given, the pre-merge ids are kept in that column. Rows are not aggregated:
    a document mentioning two merged skills now has two rows with the same id (group/max as needed).
    """
    out = df.copy()
    if original_column is not None:
        out[original_column] = out[column]
    mapping = active_merges(merge_map).drop_duplicates("skill_id").set_index("skill_id")["canonical_id"]
    if len(mapping):
        mapped = out[column].map(mapping)
        out[column] = mapped.where(mapped.notna(), out[column])
    return out


def undo_merge(merge_map: pd.DataFrame, skill_id: str, *, at: str | None = None) -> pd.DataFrame:
    """Reverse the merge of ``skill_id`` (it keeps its own id again); history is kept.

    If ``skill_id`` is the canonical of a cluster, the whole cluster is dissolved (every member of it is
    reverted). The affected active rows get ``undone_at``; nothing is deleted. Raises ``KeyError`` if the
    skill has no active merge.
    """
    stamp = at or _now()
    out = merge_map.copy()
    out["undone_at"] = out["undone_at"].astype(object)
    active = out["undone_at"].isna()
    as_member = active & (out["skill_id"] == skill_id) & (out["canonical_id"] != skill_id)
    as_winner = active & (out["canonical_id"] == skill_id)
    hit = as_member | as_winner
    if not hit.any():
        raise KeyError(f"no active merge for skill {skill_id!r}")
    out.loc[hit, "undone_at"] = stamp
    # a cluster left with only its canonical is no longer a merge: close the identity row too
    still = out["undone_at"].isna()
    live_members = out[still & (out["skill_id"] != out["canonical_id"])].groupby("cluster_id").size()
    lonely = still & (out["skill_id"] == out["canonical_id"]) & ~out["cluster_id"].isin(live_members.index)
    out.loc[lonely, "undone_at"] = stamp
    return out


def carry_over_undone(new_map: pd.DataFrame, old_map: pd.DataFrame) -> pd.DataFrame:
    """Keep manual undo decisions across sweeps.

    A (skill_id, canonical_id) pair that was undone in ``old_map`` is stamped undone in ``new_map`` too
    (with the old timestamp); identity rows of clusters left without members are closed as well.
    """
    undone = old_map[old_map["undone_at"].notna() & (old_map["skill_id"] != old_map["canonical_id"])]
    if undone.empty:
        return new_map
    out = new_map.copy()
    out["undone_at"] = out["undone_at"].astype(object)
    stamps = undone.drop_duplicates(["skill_id", "canonical_id"], keep="last").set_index(
        ["skill_id", "canonical_id"]
    )["undone_at"]
    key = pd.MultiIndex.from_frame(out[["skill_id", "canonical_id"]])
    hit = key.isin(stamps.index) & out["undone_at"].isna().to_numpy()
    out.loc[hit, "undone_at"] = stamps.reindex(key[hit]).to_numpy()
    still = out["undone_at"].isna()
    live = out[still & (out["skill_id"] != out["canonical_id"])]["cluster_id"].unique()
    lonely = still & (out["skill_id"] == out["canonical_id"]) & ~out["cluster_id"].isin(live)
    if lonely.any():
        out.loc[lonely, "undone_at"] = out.loc[hit, "undone_at"].max()
    return out
