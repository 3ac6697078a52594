"""Where uploads arrive and the limits applied to them."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from pydantic import Field

from skillatlas.ingest.inbox import DEFAULT_QUIET_SECONDS
from skillatlas.ingest.validation import validate_upload_name


class InboxResource(dg.ConfigurableResource):
    """The upload inbox: `courses/` holds syllabi, `jobs/` job descriptions (formats: skillatlas.ingest.formats)."""

    path: str = Field(description="Folder that receives uploads")
    max_file_bytes: int = Field(default=10_000_000, gt=0, description="Larger files are rejected, not parsed")
    batch_size: int = Field(default=100, ge=1, le=100, description="Documents per upload batch (<= 100)")
    quiet_seconds: float = Field(
        default=DEFAULT_QUIET_SECONDS,
        ge=0,
        description=(
            "A file is registered only after its size and modification time have been unchanged for this long "
            "(measured on max(mtime, ctime)), so uploads still being written are never ingested half-done "
            "(env SKILLATLAS_INBOX_QUIET_SECONDS)"
        ),
    )

    @property
    def root(self) -> Path:
        return Path(self.path).resolve()

    def resolve(self, relpath: str) -> Path:
        """The file of a manifest row; refuses names that would escape the inbox."""
        validate_upload_name(relpath, self.root)
        return self.root / relpath
