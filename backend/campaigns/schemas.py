"""Request and response bodies of clean-up campaigns (清理清查)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from pydantic import Field

from backend.core.input import AnyDate, MultilineText, PastDate, Text, UnitCode
from backend.core.schemas import InputSchema, OutputSchema
from backend.models import CampaignFinding, CampaignKind, CampaignStatus, FlowDirection, Sex

DivisionCode = UnitCode
Notes = Annotated[str, MultilineText(2000)]


class CampaignCriteria(InputSchema):
    """What goes on the work lists; 0 (or false) leaves a criterion out."""

    not_seen_months: int = Field(default=6, ge=0, le=60, description="persons not seen for this many months")
    uninspected_inflow: bool = Field(default=True, description="inflow women whose certificate was never inspected")
    expired_certificates: bool = Field(default=True, description="persons whose certificate has expired")
    houses_not_visited_months: int = Field(default=3, ge=0, le=60, description="rental houses not walked for months")


class CampaignCreate(InputSchema):
    """Plan a campaign for a township or the county: its villages (all of them when none are named)."""

    name: Annotated[str, Text(100, min_length=2)]
    kind: CampaignKind
    period_start: AnyDate
    period_end: AnyDate
    org_unit_code: UnitCode = Field(description="The township or the county planning it")
    unit_codes: list[UnitCode] = Field(default_factory=list, max_length=500, description="Villages; empty: all")
    criteria: CampaignCriteria = Field(default_factory=CampaignCriteria)


class CampaignRead(OutputSchema):
    id: uuid.UUID
    name: str
    kind: CampaignKind
    period_start: date
    period_end: date
    org_unit_code: str
    criteria: dict[str, object]
    status: CampaignStatus
    created_by: str
    version: int


class VillageProgress(OutputSchema):
    """Progress of one village: entries on its list, recorded, and the findings so far."""

    org_unit_code: str
    org_unit_name: str
    items: int
    recorded: int
    findings: dict[str, int]


class CampaignDetail(CampaignRead):
    villages: list[VillageProgress]


class CampaignItemRead(OutputSchema):
    id: uuid.UUID
    campaign_id: uuid.UUID
    org_unit_code: str
    person_id: uuid.UUID | None
    person_name: str | None = None
    house_id: uuid.UUID | None
    house_address: str | None = None
    reasons: list[str]
    finding: CampaignFinding | None
    found_on: date | None
    moved_to_unit_code: str | None
    notes: str | None
    recorded_by_label: str | None
    notice_correlation_id: str | None = Field(description="The flow notice the finding sent, if any")
    version: int


class FindingCreate(InputSchema):
    """What the visit found. `left` deregisters the person (her registration county is told); `moved_within_county`
    moves her record to `moved_to_unit_code` (a village in your reach); a house is `present` (walked) or `unknown`
    (nobody home)."""

    finding: CampaignFinding
    found_on: PastDate
    moved_to_unit_code: UnitCode | None = None
    notes: Notes | None = None
    version: int | None = Field(default=None, description="The version you read, to refuse a stale change")


class ArrivalCreate(InputSchema):
    """A new arrival found on the walk (新发现流入): registered in the registry (her registration county is told),
    and on the campaign's list as found. `house_id` moves her into the house walked."""

    org_unit_code: UnitCode = Field(description="The village she lives in")
    name: Annotated[str, Text(50, min_length=1)]
    sex: Sex | None = None
    resident_id: Annotated[str, Text(40)] | None = None
    flow_direction: FlowDirection = FlowDirection.inflow
    registration_division_code: DivisionCode | None = None
    flow_date: PastDate | None = None
    found_on: PastDate
    house_id: uuid.UUID | None = None
    notes: Notes | None = None


class CampaignReport(OutputSchema):
    """The campaign report (清查报告): totals, findings, and the registry changes they made."""

    campaign: CampaignRead
    items: int
    recorded: int
    findings: dict[str, int]
    departures: int = Field(description="persons deregistered (left)")
    notices_sent: int = Field(description="departure and arrival notices sent to registration counties")
    moved_within_county: int
    new_arrivals: int
    houses_walked: int
    villages: list[VillageProgress]
    unknown: list[CampaignItemRead] = Field(description="entries whose whereabouts are unknown: to follow up")
