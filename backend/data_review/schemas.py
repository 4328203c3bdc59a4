"""Request and response bodies of the data review."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import model_validator

from backend.core.input import Code, MultilineText, UnitCode
from backend.core.schemas import InputSchema, OutputSchema
from backend.models import EntryKind, EntryState, RecheckFinding
from backend.persons.schemas import PersonUpdate

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


Month = Annotated[str, Code(r"^[0-9]{4}-(0[1-9]|1[0-2])$", 7)]
Note = Annotated[str, MultilineText(2000)]


class RecheckDraw(InputSchema):
    """Draw a village's re-check list of a month (`YYYY-MM`)."""

    org_unit_code: UnitCode
    month: Month


class RecheckFindingCreate(InputSchema):
    """What the re-check found of one entry: `corrections` (the person's fields to change, with the person's
    `version`) only when `corrected`, and then required."""

    version: int
    finding: RecheckFinding
    corrections: PersonUpdate | None = None
    note: Note | None = None

    @model_validator(mode="after")
    def _corrections_with_corrected(self) -> RecheckFindingCreate:
        if self.finding == RecheckFinding.corrected and not self.corrections:
            raise ValueError("更正须填写更正的项目 / a correction names the fields corrected")
        if self.finding != RecheckFinding.corrected and self.corrections is not None:
            raise ValueError("只有“已更正”才填写更正项目 / corrections go with the finding `corrected` only")
        return self


class RecheckItemRead(OutputSchema):
    id: uuid.UUID
    person_id: uuid.UUID
    person_name: str
    finding: RecheckFinding | None
    corrected_fields: list[str]
    note: str | None
    checked_by_label: str | None
    checked_at: datetime | None
    version: int


class RecheckListRead(OutputSchema):
    """A village's list of a month: the draw as recorded (seed, the entries changed that month in id order, the
    size) and whether drawing again from it gives the same sample; the items and their findings."""

    id: uuid.UUID
    org_unit_code: str
    month: str
    seed: str
    population: list[str]
    sample_size: int
    draw_reproduces: bool
    drawn_by_label: str
    created_at: datetime
    items: list[RecheckItemRead]
    checked: int
    correct: int
    corrected: int
    unverifiable: int
