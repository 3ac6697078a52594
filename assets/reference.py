"""Reference data: the skill taxonomy (ESCO + O*NET technology skills), its vectors, and O*NET occupations."""


import json

import dagster as dg
import numpy as np
import pandas as pd

from assets.catalog import DATA_OWNERS, table_kinds, table_metadata
from resources.artifacts import ArtifactStore
from resources.warehouse import dumps
from skillatlas.reference import sources as reference
from skillatlas.reference.taxonomy import build_taxonomy
from skillatlas.store.tables import ONET_OCCUPATIONS, SKILL_TAXONOMY

REFERENCE_GROUP = "reference"


def decode_taxonomy(table: pd.DataFrame) -> pd.DataFrame:
    """The warehouse stores aliases as JSON text; the domain code wants lists."""
    # Row order from a database is not guaranteed; extraction ties must not depend on it.
    decoded = table.sort_values("skill_id", kind="stable").reset_index(drop=True)
    decoded["aliases"] = decoded["aliases"].map(lambda raw: json.loads(raw) if isinstance(raw, str) else [])
    return decoded


@dg.asset(
    group_name=REFERENCE_GROUP, kinds=table_kinds(), owners=DATA_OWNERS, metadata=table_metadata(SKILL_TAXONOMY)
)
def skill_taxonomy(context: dg.AssetExecutionContext) -> pd.DataFrame:
    r"""One row per skill with a stable id: ESCO v1.1.1 skills (preferred + alternative labels) and O\*NET 29.3
    technology skills, labels normalised, `same_as` linking an O\*NET skill to the ESCO skill it names."""
    taxonomy = build_taxonomy(reference.load_esco_skills(), reference.load_onet_technology_skills())
    if taxonomy["skill_id"].duplicated().any():
        raise dg.Failure("taxonomy has duplicate skill ids", allow_retries=False)
    out = taxonomy.copy()
    out["aliases"] = out["aliases"].map(lambda aliases: dumps(list(aliases)))
    counts = out["source"].value_counts().to_dict()
    context.add_output_metadata(
        {
            "skills": len(out),
            "esco_skills": int(counts.get("esco", 0)),
            "onet_technology_skills": int(counts.get("onet_tech", 0)),
            "onet_mapped_to_esco": int(out["same_as"].notna().sum()),
        }
    )
    return out


@dg.asset(group_name=REFERENCE_GROUP, kinds={"numpy"}, owners=DATA_OWNERS)
def taxonomy_vectors(
    context: dg.AssetExecutionContext, artifacts: ArtifactStore, skill_taxonomy: pd.DataFrame
) -> dg.MaterializeResult:
    """MiniLM (int8 ONNX) embeddings of every taxonomy skill, row-aligned with `skill_taxonomy`, stored as an
    .npz next to the warehouse. Computed once and reused by every extraction run; the shipped cache in
    data/reference/ is used when its fingerprint (labels + model version) matches."""
    from skillatlas.extract.embeddings import MiniLMEmbedder
    from skillatlas.extract.offline import embed_taxonomy

    taxonomy = decode_taxonomy(skill_taxonomy)
    vectors = np.asarray(embed_taxonomy(taxonomy, MiniLMEmbedder()), dtype=np.float32)
    if vectors.shape[0] != len(taxonomy):
        raise dg.Failure(f"{vectors.shape[0]} vectors for {len(taxonomy)} skills", allow_retries=False)
    path = artifacts.taxonomy_vectors_path
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, vectors=vectors.astype(np.float16), skill_ids=taxonomy["skill_id"].to_numpy(dtype=str))
    tmp.replace(path)  # atomic: a reader never sees half a file
    return dg.MaterializeResult(
        metadata={"skills": int(vectors.shape[0]), "dimensions": int(vectors.shape[1]), "path": str(path)}
    )


def load_taxonomy_vectors(artifacts: ArtifactStore, taxonomy: pd.DataFrame) -> np.ndarray | None:
    """The stored vectors in taxonomy row order, or None when absent or stale (the asset must rerun)."""
    path = artifacts.taxonomy_vectors_path
    if not path.exists():
        return None
    with np.load(path, allow_pickle=False) as stored:
        ids = stored["skill_ids"]
        vectors = stored["vectors"].astype(np.float32)
    position = {skill_id: i for i, skill_id in enumerate(ids)}
    order = [position.get(skill_id) for skill_id in taxonomy["skill_id"]]
    if any(i is None for i in order):
        return None
    return vectors[np.asarray(order)]


@dg.asset(
    group_name=REFERENCE_GROUP, kinds=table_kinds(), owners=DATA_OWNERS, metadata=table_metadata(ONET_OCCUPATIONS)
)
def onet_occupations(context: dg.AssetExecutionContext) -> pd.DataFrame:
    r"""The 1,016 O\*NET 29.3 occupations: SOC code, title, description, job zone, and alternate titles
    (joined with '; ') for search."""
    occupations = reference.load_onet_occupations()
    titles = reference.load_onet_alternate_titles()
    joined = titles.groupby("soc_code")["alternate_title"].apply(lambda s: "; ".join(s.head(40)))
    out = occupations.merge(joined.rename("alternate_titles"), on="soc_code", how="left")
    out["alternate_titles"] = out["alternate_titles"].fillna("")
    context.add_output_metadata({"occupations": len(out)})
    return out
