"""Files that are not tables: taxonomy vectors, the search index, the LLM response cache."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from pydantic import Field


class ArtifactStore(dg.ConfigurableResource):
    """A folder for file artefacts, next to the embedded warehouse by default (shared disk in production)."""

    root: str = Field(description="Folder for artefacts")

    def path(self, *parts: str) -> Path:
        target = Path(self.root).resolve().joinpath(*parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    @property
    def taxonomy_vectors_path(self) -> Path:
        return self.path("taxonomy_vectors.npz")

    @property
    def entity_vectors_path(self) -> Path:
        return self.path("entity_vectors.npz")

    @property
    def search_index_dir(self) -> Path:
        return self.path("search_index")
