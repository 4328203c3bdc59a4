"""Request and response bodies of the data review."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from backend.core.input import MultilineText
from backend.core.schemas import InputSchema, OutputSchema
from backend.models import EntryKind, EntryState

Reason = Annotated[str, MultilineText(2000, min_length=2)]


class EntryReviewRead(OutputSchema):
    """An entry under review: the record, what was entered (identifiers as ***), who entered it, the decision."""

    id: uuid.UUID
    person_id: uuid.UUID
    person_name: str
    org_unit_code: str
    kind: EntryKind
    state: EntryState
    changes: dict[str, Any]
    entered_by: str
    entered_by_label: str
    created_at: datetime
    decided_by_label: str | None
    decided_at: datetime | None
    reason: str | None
    version: int


class EntryConfirm(InputSchema):
    version: int


class EntryReject(InputSchema):
    version: int
    reason: Reason
