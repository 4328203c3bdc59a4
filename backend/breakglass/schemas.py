from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field, StringConstraints

from backend.core.schemas import InputSchema, OutputSchema


class BreakGlassRequest(InputSchema):
    org_unit_code: Annotated[str, StringConstraints(pattern=r"^([0-9]{9}|[0-9]{12})$")]
    reason: Annotated[str, StringConstraints(min_length=10, max_length=500)] = Field(
        description="书面理由，至少10个字 / written reason, at least 10 characters"
    )
    minutes: int | None = Field(default=None, ge=5, description="Defaults to 120; at most 480")


class BreakGlassRead(OutputSchema):
    id: uuid.UUID
    user_id: uuid.UUID
    org_unit_code: str
    reason: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    active: bool = False
