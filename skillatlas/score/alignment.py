"""Course -> target (occupation / job) alignment scores.

Score model (all arithmetic on sparse / dense matrices, no Python loops over pairs):

* **overlap_score** - cosine similarity of IDF-weighted skill vectors. Each entity becomes a row of a
  ``scipy.sparse.csr_matrix`` (``weight * idf[skill]``), rows are L2-normalised and the score matrix is one
  sparse matmul ``C @ T.T``. IDF is computed over the *target* corpus (``log((1 + N) / (1 + df)) + 1``), so a
  skill that few occupations need weighs more than "communication". Pass ``idf`` to override.
* **semantic_score** - cosine of per-entity embedding vectors (dense matmul), clipped to ``[0, 1]``.
* **score** - ``weights[0] * overlap + weights[1] * semantic`` (weights renormalised to sum 1) for pairs where
  both entities have a vector; plain ``overlap`` otherwise, so a missing vector never drags a pair down.

Top-k per course uses ``np.argpartition`` on chunks of course rows (memory bounded by
``chunk_rows * n_targets`` floats). Pairs with ``score <= 0`` (no evidence at all) are dropped.

Tiers (see :class:`TierPolicy`) combine an absolute floor, a rank cap and, for **A**, skill evidence:
**A** = score >= 0.20, rank 1, overlap >= 0.15 and (when both sides have vectors) semantic >= 0.70;
**B** = score >= 0.12 and rank <= 50; otherwise **C**. Why the evidence floors: the centroid similarity of two
skill sets is ~0.7-0.9 for almost any pair, so the blended score cleared the old A floor (score >= 0.20,
rank <= 10) for every top-10 entry, absurd ones included. Measured on the non-circular alignment evaluation
(:mod:`skillatlas.evaluation.alignment`: O*NET task statements of 300 SOC codes extracted by the pipeline's
extractor, profiles built without O*NET text; the A rule is the most precise one on the tune half that still
gives >= 15 % of its queries an A, ``benchmarks/eval_alignment.py``): held-out tier-A precision 0.24 with the
old rule (every query had A's), 0.59 with rank <= 3 / overlap >= 0.10, and 0.85 with this rule (15 % of the
queries get an A: an A is rare, and then usually right). The SOC profiles limit the rest (own SOC at rank 1
for ~21 % of queries, in the top 5 for ~34 %).

Explanations (``shared_skills`` / ``gap_skills``) are computed only for the kept top-k pairs:
shared skills ordered by their contribution to the overlap (``c[s] * t[s]``), gaps = target skills the course
does not cover, ordered by the target's IDF-weighted weight.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc_
import scipy.sparse as sp

__all__ = [
    "SCORE_COLUMNS",
    "TierPolicy",
    "alignment_scores",
    "assign_tiers",
    "compute_idf",
    "entity_centroids",
]

SCORE_COLUMNS = [
    "course_id",
    "target_id",
    "score",
    "overlap_score",
    "semantic_score",
    "rank",
    "tier",
    "shared_skills",
    "gap_skills",
]


@dataclass(frozen=True)
class TierPolicy:
    """Tier = first tier whose (min score, max rank) both hold; otherwise "C"."""

    a_min_score: float = 0.20
    a_max_rank: int = 1
    a_min_overlap: float = 0.15  # A needs shared skills, not only similar-looking skill sets
    a_min_semantic: float = 0.70  # applied only where both entities have a vector
    b_min_score: float = 0.12
    b_max_rank: int = 50


def assign_tiers(score: np.ndarray, rank: np.ndarray, policy: TierPolicy | None = None, *,
                 overlap: np.ndarray | None = None, semantic: np.ndarray | None = None) -> np.ndarray:
    """Vectorised tiers for arrays of scores and 1-based ranks (``overlap`` / ``semantic``: the two parts of
    the score; without them the A evidence floors are not applied)."""
    codes = _tier_codes(np.asarray(score), np.asarray(rank), policy, overlap, semantic)
    return np.array(["A", "B", "C"], dtype=object)[codes.astype(np.intp)]


def _tier_codes(score: np.ndarray, rank: np.ndarray, policy: TierPolicy | None,
                overlap: np.ndarray | None = None, semantic: np.ndarray | None = None) -> np.ndarray:
    p = policy or TierPolicy()
    codes = np.full(len(score), 2, dtype=np.int8)
    codes[(score >= p.b_min_score) & (rank <= p.b_max_rank)] = 1
    a = (score >= p.a_min_score) & (rank <= p.a_max_rank)
    if overlap is not None:
        a &= np.asarray(overlap) >= p.a_min_overlap
    if semantic is not None:
        a &= np.asarray(semantic) >= p.a_min_semantic
    codes[a] = 0
    return codes


def _str_array(arr: pa.Array) -> pd.api.extensions.ExtensionArray:
    return pd.array(arr.cast(pa.large_string()), dtype=pd.StringDtype("pyarrow", na_value=np.nan))


def _take_str(values: np.ndarray, codes: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """``values[codes]`` as an arrow-backed string array (cheap even for millions of rows)."""
    arr = pa.array(values, type=pa.large_string()).take(pa.array(codes, type=pa.int64()))
    return pd.array(arr, dtype=pd.StringDtype("pyarrow", na_value=np.nan))


@dataclass
class _Side:
    entity_codes: np.ndarray  # int64 row index per skill row
    entity_ids: np.ndarray  # object array of unique ids (first-appearance order)
    skill_ids: pd.Series  # str per skill row
    weight: np.ndarray  # float64 > 0 per skill row


def _prep(skills: pd.DataFrame) -> _Side:
    missing = {"entity_id", "skill_id"} - set(skills.columns)
    if missing:
        raise ValueError(f"skills frame lacks columns {sorted(missing)}")
    if "weight" in skills.columns:
        w = pd.to_numeric(skills["weight"], errors="coerce").to_numpy(np.float64, na_value=0.0)
    else:
        w = np.ones(len(skills), dtype=np.float64)
    keep = w > 0
    ent = skills["entity_id"][keep]
    sk = skills["skill_id"][keep]
    if ent.dtype == object or not pd.api.types.is_string_dtype(ent):
        ent = ent.astype(str)
    if sk.dtype == object or not pd.api.types.is_string_dtype(sk):
        sk = sk.astype(str)
    codes, uniques = pd.factorize(ent)
    ids = np.asarray(uniques, dtype=object)
    return _Side(codes.astype(np.int64), ids, sk.reset_index(drop=True), w[keep])


def _idf(entity_codes: np.ndarray, skill_codes: np.ndarray, n_entities: int, n_vocab: int) -> np.ndarray:
    """Smoothed IDF per skill code: ``log((1 + N) / (1 + df)) + 1`` (always > 0), N = ``n_entities``, df = the
    number of distinct entities that have the skill (0 for a code no entity has, which gets the largest IDF)."""
    pair_key = np.unique(entity_codes * n_vocab + skill_codes)
    dfreq = np.bincount(pair_key % n_vocab, minlength=n_vocab).astype(np.float64)
    idf: np.ndarray = np.log((1.0 + n_entities) / (1.0 + dfreq)) + 1.0
    return idf


def compute_idf(target_skills: pd.DataFrame) -> pd.Series:
    """Smoothed IDF over the target corpus, per skill id: ``log((1 + N) / (1 + df)) + 1`` (always > 0).

    The IDF :func:`alignment_scores` uses when it is given none: rows with a weight <= 0 do not count.
    """
    side = _prep(target_skills)
    skill_codes, skill_ids = pd.factorize(side.skill_ids)
    idf = _idf(side.entity_codes, skill_codes, len(side.entity_ids), len(skill_ids))
    return pd.Series(idf, index=pd.Index(np.asarray(skill_ids, dtype=object), name="skill_id"))


def _build_matrix(side: _Side, skill_codes: np.ndarray, n_vocab: int, idf: np.ndarray) -> sp.csr_matrix:
    """Rows = entities, L2-normalised ``weight * idf``; duplicate (entity, skill) cells keep the max."""
    rows, cols, w = side.entity_codes, skill_codes.astype(np.int64), side.weight
    key = rows * n_vocab + cols
    if pd.Index(key).is_unique:  # common case: no duplicate (entity, skill) rows
        sel = np.arange(len(key))
    else:
        order = np.lexsort((w, key))
        key_s = key[order]
        sel = order[np.r_[key_s[1:] != key_s[:-1], True]]
    vals = w[sel] * idf[cols[sel]]
    m = sp.csr_matrix((vals, (rows[sel], cols[sel])), shape=(len(side.entity_ids), n_vocab))
    m.sort_indices()
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
    inv = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    m = sp.csr_matrix(sp.diags(inv) @ m)
    m.sort_indices()
    return m.astype(np.float32)


def _vectors_for(
    vectors: pd.DataFrame | Mapping[str, np.ndarray] | None, entity_ids: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """Return (row-aligned L2-normalised float32 matrix, has_vector mask) or None.

    Accepted forms: a DataFrame indexed by entity id with numeric columns; a DataFrame with columns
    ``entity_id`` and ``vector`` (array per row); a mapping ``entity_id -> vector``.
    """
    if vectors is None:
        return None
    if isinstance(vectors, pd.DataFrame):
        if "vector" in vectors.columns and "entity_id" in vectors.columns:
            ids = vectors["entity_id"].astype(str).to_numpy()
            mat = np.vstack([np.asarray(v, dtype=np.float32) for v in vectors["vector"]])
        else:
            ids = vectors.index.astype(str).to_numpy()
            mat = vectors.to_numpy(dtype=np.float32)
    else:
        ids = np.array([str(k) for k in vectors.keys()], dtype=object)
        mat = np.vstack([np.asarray(v, dtype=np.float32) for v in vectors.values()])
    if len(ids) == 0:
        return None
    pos = pd.Index(ids).get_indexer(entity_ids)
    has = pos >= 0
    out = np.zeros((len(entity_ids), mat.shape[1]), dtype=np.float32)
    out[has] = mat[pos[has]]
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    np.divide(out, norms, out=out, where=norms > 0)
    return out, has & (norms.ravel() > 0)


def _top_k_block(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Column indices (sorted by descending score) and scores of the top-k per row."""
    n_cols = scores.shape[1]
    if k < n_cols:
        part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    else:
        part = np.broadcast_to(np.arange(n_cols), scores.shape).copy()
    part_scores = np.take_along_axis(scores, part, axis=1)
    # score desc; ties keep argpartition's order (deterministic per row, independent of chunking)
    order = np.argsort(-part_scores, axis=1, kind="stable")
    cols = np.take_along_axis(part, order, axis=1)
    return cols, np.take_along_axis(part_scores, order, axis=1)


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenate ``arange(s, s + l)`` for every (s, l) without a Python loop."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(lengths)
    offs = np.repeat(ends - lengths, lengths)
    ranges: np.ndarray = np.repeat(starts, lengths) + (np.arange(total) - offs)
    return ranges


def _top_n_per_group(group: np.ndarray, value: np.ndarray, n: int) -> np.ndarray:
    """Indices of the top-n values per group (groups need not be contiguous), ordered group, value desc."""
    order = np.lexsort((-value, group))
    g = group[order]
    if len(g) == 0:
        return order
    starts = np.r_[0, np.flatnonzero(g[1:] != g[:-1]) + 1]
    lengths = np.diff(np.r_[starts, len(g)])
    pos_in_group = np.arange(len(g)) - np.repeat(starts, lengths)
    top: np.ndarray = order[pos_in_group < n]
    return top


def _join_labels(n_pairs: int, pair: np.ndarray, labels: pa.Array, skill: np.ndarray) -> pa.Array:
    """``"; "``-join of ``labels[skill]`` per pair; ``pair`` must be sorted (see _top_n_per_group)."""
    offsets = np.zeros(n_pairs + 1, dtype=np.int32)
    np.cumsum(np.bincount(pair, minlength=n_pairs), out=offsets[1:])
    values = labels.take(pa.array(skill, type=pa.int64()))
    lists = pa.ListArray.from_arrays(pa.array(offsets), values)
    return pc_.binary_join(lists, "; ")


def _explain(
    pc: np.ndarray,
    pt: np.ndarray,
    cmat: sp.csr_matrix,
    tmat: sp.csr_matrix,
    labels: pa.Array,
    max_shared: int,
    max_gaps: int,
    chunk_pairs: int = 250_000,
) -> tuple[pa.Array, pa.Array]:
    n_vocab = np.int64(cmat.shape[1])
    t_keys = np.repeat(np.arange(tmat.shape[0], dtype=np.int64), np.diff(tmat.indptr)) * n_vocab
    t_keys += tmat.indices.astype(np.int64)  # sorted: rows ascending, indices sorted within rows
    # per target: its skills ordered by weight desc (for gap candidates)
    t_rows = np.repeat(np.arange(tmat.shape[0]), np.diff(tmat.indptr))
    t_order = np.lexsort((-tmat.data, t_rows))
    t_sorted_skill = tmat.indices[t_order]
    t_sorted_w = tmat.data[t_order]

    shared_out: list[pa.Array] = []
    gaps_out: list[pa.Array] = []
    for lo in range(0, len(pc), chunk_pairs):
        c = pc[lo : lo + chunk_pairs]
        t = pt[lo : lo + chunk_pairs]
        n = len(c)
        # shared: expand each pair over the course's skills, look them up in the target
        c_len = np.diff(cmat.indptr)[c]
        idx = _ranges(cmat.indptr[c].astype(np.int64), c_len.astype(np.int64))
        pair = np.repeat(np.arange(n), c_len)
        skill = cmat.indices[idx].astype(np.int64)
        key = np.repeat(t.astype(np.int64), c_len) * n_vocab + skill
        pos = np.searchsorted(t_keys, key)
        pos_c = np.minimum(pos, len(t_keys) - 1) if len(t_keys) else pos
        hit = (len(t_keys) > 0) & (t_keys[pos_c] == key) if len(t_keys) else np.zeros(len(key), bool)
        s_pair, s_skill = pair[hit], skill[hit]
        contrib = cmat.data[idx[hit]] * tmat.data[pos_c[hit]]
        keep = _top_n_per_group(s_pair, contrib, max_shared)
        shared_out.append(_join_labels(n, s_pair[keep], labels, s_skill[keep]))
        # gaps: the first (max_gaps + n_shared) target skills by weight contain >= max_gaps non-shared ones
        n_shared = np.bincount(s_pair, minlength=n)
        t_len = np.diff(tmat.indptr)[t]
        cand_len = np.minimum(t_len, max_gaps + n_shared).astype(np.int64)
        gidx = _ranges(tmat.indptr[t].astype(np.int64), cand_len)
        gpair = np.repeat(np.arange(n), cand_len)
        gskill = t_sorted_skill[gidx].astype(np.int64)
        gw = t_sorted_w[gidx]
        shared_keys = np.sort(s_pair.astype(np.int64) * n_vocab + s_skill)
        gkey = gpair.astype(np.int64) * n_vocab + gskill
        if len(shared_keys):
            gpos = np.minimum(np.searchsorted(shared_keys, gkey), len(shared_keys) - 1)
            is_shared = shared_keys[gpos] == gkey
        else:
            is_shared = np.zeros(len(gkey), dtype=bool)
        gpair, gskill, gw = gpair[~is_shared], gskill[~is_shared], gw[~is_shared]
        gkeep = _top_n_per_group(gpair, gw, max_gaps)
        gaps_out.append(_join_labels(n, gpair[gkeep], labels, gskill[gkeep]))
    if not shared_out:
        empty = pa.array([], type=pa.string())
        return empty, empty
    return pa.concat_arrays(shared_out), pa.concat_arrays(gaps_out)


def alignment_scores(
    course_skills: pd.DataFrame,
    target_skills: pd.DataFrame,
    *,
    course_vectors: pd.DataFrame | Mapping[str, np.ndarray] | None = None,
    target_vectors: pd.DataFrame | Mapping[str, np.ndarray] | None = None,
    top_k: int = 200,
    idf: pd.Series | None = None,
    weights: tuple[float, float] = (0.7, 0.3),
    skill_labels: pd.Series | Mapping[str, str] | None = None,
    tiers: TierPolicy | None = None,
    explain: bool = True,
    max_shared: int = 5,
    max_gaps: int = 5,
    chunk_rows: int = 2048,
) -> pd.DataFrame:
    """Top-``top_k`` targets per course with scores, tiers and explanations.

    ``course_skills`` / ``target_skills``: columns ``entity_id, skill_id[, weight][, label]`` (weight defaults
    to 1; duplicates keep the max weight). ``skill_labels`` (skill_id -> label) names skills in the
    explanations; otherwise ``label`` columns of the inputs are used, else the skill ids.
    Entities without any (positive-weight) skill are not scored. Vectors are optional per entity.
    Returns :data:`SCORE_COLUMNS`, grouped by course (input order) and sorted by rank.
    """
    if top_k <= 0:
        raise ValueError("top_k must be positive")
    w_overlap, w_sem = (float(weights[0]), float(weights[1]))
    if w_overlap < 0 or w_sem < 0 or w_overlap + w_sem <= 0:
        raise ValueError("weights must be non-negative and not both zero")
    w_overlap, w_sem = w_overlap / (w_overlap + w_sem), w_sem / (w_overlap + w_sem)

    cs = _prep(course_skills)
    ts = _prep(target_skills)
    course_ids = cs.entity_ids
    target_ids = ts.entity_ids
    if len(course_ids) == 0 or len(target_ids) == 0:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in SCORE_COLUMNS}).astype(
            {"score": float, "overlap_score": float, "semantic_score": float, "rank": np.int32}
        )

    sk_codes, sk_uniques = pd.factorize(pd.concat([ts.skill_ids, cs.skill_ids], ignore_index=True))
    skill_index = pd.Index(np.asarray(sk_uniques, dtype=object))
    t_sk, c_sk = sk_codes[: len(ts.skill_ids)], sk_codes[len(ts.skill_ids) :]
    n_vocab = len(skill_index)
    if idf is None:
        idf_arr = _idf(ts.entity_codes, t_sk, len(target_ids), n_vocab)
    else:
        idf_s = idf.copy()
        idf_s.index = idf_s.index.astype(str)
        default_idf = float(idf_s.max()) if len(idf_s) else 1.0
        idf_arr = idf_s.reindex(skill_index).fillna(default_idf).to_numpy(np.float64)

    cmat = _build_matrix(cs, c_sk, n_vocab, idf_arr)
    tmat = _build_matrix(ts, t_sk, n_vocab, idf_arr)
    tmat_t = sp.csr_matrix(tmat.T)  # (vocab, n_targets)

    cvec = _vectors_for(course_vectors, course_ids) if w_sem > 0 else None
    tvec = _vectors_for(target_vectors, target_ids) if w_sem > 0 else None
    use_sem = cvec is not None and tvec is not None
    no_t = ~tvec[1] if tvec is not None else np.zeros(len(target_ids), dtype=bool)
    k = min(top_k, len(target_ids))

    out_c: list[np.ndarray] = []
    out_t: list[np.ndarray] = []
    out_s: list[np.ndarray] = []
    out_o: list[np.ndarray] = []
    out_m: list[np.ndarray] = []
    out_r: list[np.ndarray] = []
    for lo in range(0, len(course_ids), chunk_rows):
        hi = min(lo + chunk_rows, len(course_ids))
        overlap = (cmat[lo:hi] @ tmat_t).toarray()
        if use_sem:
            assert cvec is not None and tvec is not None
            sem = cvec[0][lo:hi] @ tvec[0].T
            np.clip(sem, 0.0, 1.0, out=sem)
            score = sem * np.float32(w_sem)
            score += np.float32(w_overlap) * overlap
            # pairs where either side has no vector: plain overlap
            no_c = ~cvec[1][lo:hi]
            if no_c.any():
                score[no_c] = overlap[no_c]
            if no_t.any():
                score[:, no_t] = overlap[:, no_t]
        else:
            sem = None
            score = overlap
        cols, top_scores = _top_k_block(score, k)
        rows = np.broadcast_to(np.arange(lo, hi)[:, None], cols.shape)
        keep = top_scores > 0  # a prefix of each row (sorted desc), so rank = position + 1
        out_r.append(np.broadcast_to(np.arange(1, k + 1, dtype=np.int32), cols.shape)[keep])
        r, c = rows[keep], cols[keep]
        out_c.append(r)
        out_t.append(c)
        out_s.append(top_scores[keep])
        out_o.append(overlap[r - lo, c])
        out_m.append(sem[r - lo, c] if sem is not None else np.zeros(len(r), dtype=np.float32))

    pc = np.concatenate(out_c)
    pt = np.concatenate(out_t)
    score_v = np.minimum(np.concatenate(out_s).astype(np.float64), 1.0)
    rank = np.concatenate(out_r)

    result = pd.DataFrame({"course_id": _take_str(course_ids, pc), "target_id": _take_str(target_ids, pt)})
    result["score"] = score_v
    result["overlap_score"] = np.minimum(np.concatenate(out_o).astype(np.float64), 1.0)
    result["semantic_score"] = np.concatenate(out_m).astype(np.float64)
    result["rank"] = rank
    # tier as a categorical of "A" < "B" < "C" (cheap for millions of rows)
    # the semantic floor only where the pair had vectors on both sides (else the score is plain overlap)
    sem_v = result["semantic_score"].to_numpy()
    had_vec = np.zeros(len(pc), dtype=bool)
    if use_sem:
        assert cvec is not None and tvec is not None
        had_vec = cvec[1][pc] & tvec[1][pt]
    sem_floor_ok = np.where(had_vec, sem_v, np.inf)
    codes = _tier_codes(score_v, rank, tiers, result["overlap_score"].to_numpy(), sem_floor_ok)
    result["tier"] = pd.Categorical.from_codes(codes, categories=["A", "B", "C"])
    if explain:
        labels = _label_array(skill_index, skill_labels, course_skills, target_skills)
        shared, gaps = _explain(pc, pt, cmat, tmat, labels, max_shared, max_gaps)
        result["shared_skills"] = _str_array(shared)
        result["gap_skills"] = _str_array(gaps)
    else:
        empty = _take_str(np.array([""], dtype=object), np.zeros(len(pc), dtype=np.int64))
        result["shared_skills"] = empty
        result["gap_skills"] = empty
    return result


def _label_array(
    skill_index: pd.Index,
    skill_labels: pd.Series | Mapping[str, str] | None,
    course_skills: pd.DataFrame,
    target_skills: pd.DataFrame,
) -> pa.Array:
    if skill_labels is not None:
        lab = pd.Series(skill_labels) if not isinstance(skill_labels, pd.Series) else skill_labels
    else:
        parts = [
            df[["skill_id", "label"]] for df in (target_skills, course_skills) if "label" in df.columns
        ]
        if parts:
            both = pd.concat(parts, ignore_index=True).dropna()
            both["skill_id"] = both["skill_id"].astype(str)
            lab = both.drop_duplicates("skill_id").set_index("skill_id")["label"]
        else:
            lab = pd.Series(dtype=object)
    lab.index = lab.index.astype(str)
    arr = lab.reindex(skill_index).astype(object).to_numpy().copy()
    missing = pd.isna(arr)
    arr[missing] = skill_index.to_numpy()[missing]
    return pa.array([str(x) for x in arr], type=pa.string())


def entity_centroids(entity_skills: pd.DataFrame, skill_ids: pd.Index, vectors: np.ndarray
                     ) -> dict[str, np.ndarray]:
    """Per entity: weighted mean of its skills' vectors (``vectors[i]`` is the vector of ``skill_ids[i]``),
    L2-normalised: the semantic side of :func:`alignment_scores`. Skills without a vector are left out."""
    pos = pd.Series(np.arange(len(skill_ids)), index=skill_ids)
    frame = entity_skills[entity_skills["skill_id"].isin(pos.index)]
    out: dict[str, np.ndarray] = {}
    for entity_id, group in frame.groupby("entity_id"):
        rows = vectors[pos[group["skill_id"]].to_numpy()]
        c = (rows * group["weight"].to_numpy()[:, None]).sum(axis=0)
        n = float(np.linalg.norm(c))
        if n > 0:
            out[str(entity_id)] = c / n
    return out
