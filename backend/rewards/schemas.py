"""Request and response bodies of the rewards API (奖励优惠)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field

from backend.core.input import Code, DecimalString, PastDate, Text, UnitCode
from backend.core.schemas import InputSchema, OutputSchema

# A reward policy: its case type code.
Policy = Annotated[str, Code(r"^[a-z][a-z0-9_]{0,39}$", 40)]
Year = Annotated[int, Field(ge=2000, le=2100)]
RewardState = Literal["pending", "granted", "refused", "withdrawn"]


class RewardCreate(InputSchema):
    """An application (申报) for one policy in one year, for the couple's applicant, to be paid to `payee_id`."""

    policy: Policy = Field(description="only_child_reward, rural_reward_assistance or special_assistance")
    org_unit_code: UnitCode = Field(description="the unit handling it (the applicant's registration village or above)")
    year: Year
    applicant_id: uuid.UUID
    spouse_id: uuid.UUID | None = None
    payee_id: uuid.UUID = Field(description="who is paid: an entitled parent (the applicant alone for per-person aid)")


class ConditionRead(OutputSchema):
    code: str
    label: str
    met: bool
    found: str


class EligibilityRead(OutputSchema):
    policy: str
    year: int
    eligible: bool
    conditions: list[ConditionRead]
    entitled_payee_ids: list[uuid.UUID]


class PaymentCreate(InputSchema):
    payee_id: uuid.UUID
    amount: Annotated[Decimal, Field(gt=0, le=1_000_000, max_digits=12, decimal_places=2), DecimalString(12)]
    paid_on: PastDate
    reference: Annotated[str, Text(100, min_length=1)] | None = None


class PaymentRead(OutputSchema):
    id: uuid.UUID
    payee_id: uuid.UUID
    amount: Decimal
    paid_on: date
    reference: str | None
    recorded_by: str
    created_at: datetime


class RewardRead(OutputSchema):
    """An application with its case's state: pending (being decided), granted (the signer approved), refused,
    withdrawn."""

    id: uuid.UUID
    case_id: uuid.UUID
    case_number: str
    policy: str
    policy_label: str
    year: int
    org_unit_code: str
    applicant_id: uuid.UUID
    applicant_name: str
    spouse_id: uuid.UUID | None
    payee_id: uuid.UUID
    payee_name: str
    amount: Decimal
    paid: Decimal
    state: RewardState
    pending_step: str | None
    conditions: list[ConditionRead]
    payments: list[PaymentRead] = Field(default_factory=list)
    version: int


class TotalsRow(OutputSchema):
    """A policy's figures for the year: applications, granted, amount granted and paid (元)."""

    policy: str
    policy_label: str
    applications: int
    granted: int
    granted_amount: Decimal
    paid_amount: Decimal
