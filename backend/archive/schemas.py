"""Request and response bodies of the yearly archive API."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import Field

from backend.core.input import UnitCode
from backend.core.schemas import InputSchema, OutputSchema


class ArchiveRequest(InputSchema):
    """Bind the closed cases of `year` under `org_unit_code` into a volume (a worker builds it)."""

    org_unit_code: UnitCode = Field(description="the county or a township of it")
    year: int = Field(ge=2000, le=2100, description="a year that has ended (China time)")


class ArchiveVolumeRead(OutputSchema):
    id: uuid.UUID
    org_unit_code: str
    year: int
    state: str
    case_count: int
    document_count: int
    index_sha256: str | None
    manifest_sha256: str | None
    retain_until: date | None
    requested_by: str
    built_at: datetime | None
    failure: str | None
    created_at: datetime
