"""Request and response bodies of the entrustment API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field

from backend.core.input import MultilineText, TownshipCode
from backend.core.schemas import InputSchema, OutputSchema

Reason = Annotated[str, MultilineText(2000, min_length=2)]


class EntrustmentCreate(InputSchema):
    """委托: hand the case to another township of the same county, with the reason."""

    version: int = Field(description="the case's version, as read")
    to_unit_code: TownshipCode = Field(description="the receiving township (9-digit code) of the same county")
    reason: Reason
    include_person: bool = Field(
        default=False, description="hand over the responsibility for the case's person in the registry too"
    )


class EntrustmentDecision(InputSchema):
    version: int


class EntrustmentReturn(InputSchema):
    version: int
    reason: Reason


class EntrustmentRead(OutputSchema):
    id: uuid.UUID
    case_id: uuid.UUID
    case_number: str
    from_unit_code: str
    to_unit_code: str
    include_person: bool
    person_id: uuid.UUID | None
    reason: str
    state: str
    requested_by: str
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str | None
    created_at: datetime
    version: int
