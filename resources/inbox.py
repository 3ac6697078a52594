"""Where uploads arrive and the limits applied to them."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from pydantic import Field

from skillatlas.validation import validate_upload_name


class InboxResource(dg.ConfigurableResource):
    """The upload inbox: `courses/` holds syllabi, `jobs/` job descriptions (PDF, DOCX, HTML, TXT)."""

    path: str = Field(description="Folder that receives uploads")
    max_file_bytes: int = Field(default=10_000_000, gt=0, description="Larger files are rejected, not parsed")
    batch_size: int = Field(default=100, ge=1, le=100, description="Documents per upload batch (<= 100)")

    @property
    def root(self) -> Path:
        return Path(self.path).resolve()

    def resolve(self, relpath: str) -> Path:
        """The file of a manifest row; refuses names that would escape the inbox."""
        validate_upload_name(relpath, self.root)
        return self.root / relpath
