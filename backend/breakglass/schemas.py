from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field

from backend.core.input import MultilineText, TownshipOrVillageCode
from backend.core.schemas import InputSchema, OutputSchema


class BreakGlassRequest(InputSchema):
    org_unit_code: TownshipOrVillageCode
    reason: Annotated[str, MultilineText(500, min_length=10)] = Field(
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
