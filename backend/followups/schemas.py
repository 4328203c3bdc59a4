"""Request and response bodies of follow-up work: the county's rules (随访与三查频次), visits (随访记录), returns
home (返乡登记) and the follow-up rate (随访服务率)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import ConfigDict, Field

from backend.core.input import MultilineText, PastDate, Text
from backend.core.schemas import InputSchema, OutputSchema
from backend.followups.rules import FollowUpRules
from backend.models import ContraceptionMeasure, PregnancyFinding, VisitMethod

Notes = Annotated[str, MultilineText(2000)]
ResidentId = Annotated[str, Text(40, min_length=15)]


class FollowUpRulesUpdate(FollowUpRules):
    """The county's whole rules; a field left out takes the shipped default. Check rounds 2 a year (4 for key
    subjects) and pill users monthly unless the county says otherwise."""

    model_config = ConfigDict(extra="forbid", frozen=False, str_strip_whitespace=True)

    enabled: bool = Field(default=True, description="false switches recurring follow-up off for the county")
    version: int | None = Field(default=None, description="The version you read; required once the county has rules")


class FollowUpRulesRead(FollowUpRules):
    model_config = ConfigDict(frozen=False)

    enabled: bool
    overridden_fields: list[str] = Field(description="The fields the county changed from the shipped defaults")
    version: int | None = Field(description="The rules row's version (null: never configured)")


class VisitCreate(InputSchema):
    """What a follow-up visit found (随访记录). `procedure_effective` is required after an IUD insertion or a
    sterilisation (「对手术的有效性进行登记」)."""

    visited_on: PastDate
    method: VisitMethod
    pregnancy: PregnancyFinding
    contraception_measure: ContraceptionMeasure | None = None
    procedure_effective: bool | None = None
    side_effects: Notes | None = None
    advice: Notes | None = None


class VisitRead(OutputSchema):
    id: uuid.UUID
    case_id: uuid.UUID
    person_id: uuid.UUID
    kind: str
    org_unit_code: str
    visited_on: date
    method: VisitMethod
    pregnancy: PregnancyFinding
    contraception_measure: ContraceptionMeasure | None
    procedure_effective: bool | None
    side_effects: str | None
    advice: str | None
    recorded_by_label: str


class ReturnCreate(InputSchema):
    """An out-migrant came home (返乡): her follow-up visit is due within the county's days."""

    resident_id: ResidentId = Field(description="Her resident ID number; she must be in your reach")
    returned_on: PastDate


class FollowUpItem(OutputSchema):
    """An open or recorded follow-up: its case, kind, subject and due day."""

    case_id: uuid.UUID
    case_number: str
    kind: str
    title: str
    person_id: uuid.UUID | None
    person_name: str
    org_unit_code: str
    due_at: datetime | None
    closed: bool


class FollowUpRate(OutputSchema):
    """随访服务率 of one unit: visits recorded among the follow-ups due in the period."""

    org_unit_code: str
    org_unit_name: str
    level: str = Field(description="village, township or county")
    due: int
    visited: int
    rate: float | None = Field(description="visited / due; null when nothing was due")
