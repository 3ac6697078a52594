"""The search index over courses, job postings, occupations and skills (full text + semantic)."""

import dagster as dg
import numpy as np
import pandas as pd

from assets.catalog import DATA_OWNERS
from assets.reference import decode_taxonomy, load_taxonomy_vectors
from resources.artifacts import ArtifactStore

SEARCH_GROUP = "search"
BODY_CHARS = 4000  # enough for BM25 and for the 256-token embedding window


def index_documents(
    document_text: pd.DataFrame, onet_occupations: pd.DataFrame, taxonomy: pd.DataFrame
) -> pd.DataFrame:
    """One row per searchable thing: doc_key, kind (course|job|occupation|skill), title, body."""
    docs = document_text[document_text["kind"].isin(["course", "job"])]
    parts = [
        pd.DataFrame(
            {
                "doc_key": docs["doc_id"],
                "kind": docs["kind"],
                "title": docs["title"].fillna(""),
                "body": docs["text"].str.slice(0, BODY_CHARS),
            }
        ),
        pd.DataFrame(
            {
                "doc_key": onet_occupations["soc_code"],
                "kind": "occupation",
                "title": onet_occupations["title"],
                "body": onet_occupations["description"] + "\nAlso known as: " + onet_occupations["alternate_titles"],
            }
        ),
        pd.DataFrame(
            {
                "doc_key": taxonomy["skill_id"],
                "kind": "skill",
                "title": taxonomy["label"],
                "body": taxonomy["aliases"].map(lambda a: "; ".join(a)) + "\n" + taxonomy["description"].fillna(""),
            }
        ),
    ]
    out = pd.concat(parts, ignore_index=True)
    return out.drop_duplicates("doc_key", keep="first").reset_index(drop=True)


@dg.asset(
    group_name=SEARCH_GROUP,
    kinds={"tantivy"},
    owners=DATA_OWNERS,
    tags={"skillatlas/queue": "indexing"},
)
def search_index(
    context: dg.AssetExecutionContext,
    artifacts: ArtifactStore,
    document_text: pd.DataFrame,
    onet_occupations: pd.DataFrame,
    skill_taxonomy: pd.DataFrame,
) -> dg.MaterializeResult:
    r"""A tantivy BM25 index plus MiniLM vectors over every course, job posting, O\*NET occupation and taxonomy
    skill, rebuilt in a temporary folder and swapped in atomically, so searches never see a half-built index.
    Queried by `skillatlas search`."""
    from skillatlas.extract.embeddings import MiniLMEmbedder
    from skillatlas.index.search import build_index

    taxonomy = decode_taxonomy(skill_taxonomy)
    docs = index_documents(document_text, onet_occupations, taxonomy)
    skill_vectors = load_taxonomy_vectors(artifacts, taxonomy)
    embedder = MiniLMEmbedder()
    is_skill = (docs["kind"] == "skill").to_numpy()
    vectors = np.zeros((len(docs), 384), dtype=np.float32)
    others = docs[~is_skill]
    # Title and opening text: MiniLM reads 256 tokens at most, and short inputs embed much faster.
    vectors[~is_skill] = embedder.encode((others["title"] + ". " + others["body"].str.slice(0, 400)).tolist())
    if skill_vectors is not None:
        position = pd.Series(np.arange(len(taxonomy)), index=taxonomy["skill_id"])
        vectors[is_skill] = skill_vectors[position[docs.loc[is_skill, "doc_key"]].to_numpy()]
    else:
        vectors[is_skill] = embedder.encode(docs.loc[is_skill, "title"].tolist())
    stats = build_index(docs, artifacts.search_index_dir, vectors)
    counts = docs["kind"].value_counts().to_dict()
    return dg.MaterializeResult(
        metadata={
            "documents": len(docs),
            **{f"{kind}_documents": int(counts.get(kind, 0)) for kind in ("course", "job", "occupation", "skill")},
            "index_dir": str(artifacts.search_index_dir),
            "build_stats": dg.MetadataValue.json(stats.to_dict()),
        }
    )
