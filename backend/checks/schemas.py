"""Request and response bodies of the check rounds (三查): a round, its result, and 三查到位率 per unit."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import Field

from backend.core.input import MultilineText, PastDate, Text
from backend.core.schemas import InputSchema, OutputSchema
from backend.models import CheckPlace, CheckRoundStatus, GynaecologyFinding, IudFinding, PregnancyFinding

Notes = Annotated[str, MultilineText(2000)]
PlaceName = Annotated[str, Text(100, min_length=1)]


class CheckResultCreate(InputSchema):
    """What the check found, who did it and where. A check done elsewhere (外地检查) counts exactly as a local one;
    it needs the place and the mailed-back proof's scan (`proof_document_id`, a document of the round's case or of
    the woman). Nobody may be asked to go back to her registration place for a check."""

    checked_on: PastDate = Field(description="Not in the future, nor before the round's window")
    pregnancy: PregnancyFinding
    iud: IudFinding
    gynaecology: GynaecologyFinding
    gynaecology_notes: Notes | None = Field(default=None, description="Required when gynaecology is findings")
    provider_name: PlaceName = Field(description="服务机构: the FP service station or hospital that did the check")
    place: CheckPlace = CheckPlace.local
    place_name: PlaceName | None = Field(default=None, description="Where, when done elsewhere (required then)")
    proof_document_id: uuid.UUID | None = Field(default=None, description="The proof's scan, when done elsewhere")
    notes: Notes | None = None


class CheckResultRead(OutputSchema):
    id: uuid.UUID
    round_id: uuid.UUID
    checked_on: date
    pregnancy: PregnancyFinding
    iud: IudFinding
    gynaecology: GynaecologyFinding
    gynaecology_notes: str | None
    provider_name: str
    place: CheckPlace
    place_name: str | None
    proof_document_id: uuid.UUID | None
    notes: str | None
    recorded_by_label: str
    created_at: datetime


class CheckRoundRead(OutputSchema):
    id: uuid.UUID
    person_id: uuid.UUID
    person_name: str
    case_id: uuid.UUID | None
    org_unit_code: str
    period: str
    year: int
    round: int
    rounds: int
    window_start: date
    window_end: date
    key_subject: bool
    status: CheckRoundStatus
    escalation_case_id: uuid.UUID | None
    result: CheckResultRead | None
    version: int


class CheckRate(OutputSchema):
    """三查到位率 of one unit (a village, its township, or the whole reach): rounds due in the period (应检, void ones
    left out), done (已检), missed (未到位) and still open (待检); rate = done / due."""

    org_unit_code: str
    org_unit_name: str
    level: str = Field(description="village, township or county")
    due: int
    done: int
    missed: int
    open: int
    rate: float | None = Field(description="done / due; null when nothing was due")
