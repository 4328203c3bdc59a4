"""Request and response bodies of the complaints API (投诉举报)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field

from backend.core.input import MultilineText, PastDate, PastDateTime, Text, UnitCode
from backend.core.schemas import InputSchema, OutputSchema
from backend.models import ComplaintChannel, ComplaintKind

Practice = Literal["forced_return", "extra_fees", "refusal_without_reason"]
Body = Annotated[str, MultilineText(5000, min_length=1)]
Short = Annotated[str, Text(100, min_length=1)]
Contact = Annotated[str, Text(200, min_length=1)]
# Three practices exist: the list is bounded (with room for a repeated one, which was accepted before).
MAX_PRACTICES = 10
CONFIDENTIAL = "保密"


class ComplaintCreate(InputSchema):
    """A complaint or a 两非 report as it came in. Anonymous ones carry no name nor contact."""

    kind: ComplaintKind = ComplaintKind.complaint
    channel: ComplaintChannel = Field(description="hotline (12356), mailbox, letter, visit, online")
    org_unit_code: UnitCode = Field(description="the unit handling it")
    received_at: PastDateTime | None = Field(default=None, description="when it came in; defaults to now")
    anonymous: bool = False
    complainant_name: Short | None = None
    complainant_contact: Contact | None = None
    summary: Annotated[str, Text(200, min_length=1)]
    content: Body
    practices: list[Practice] = Field(
        default_factory=list, max_length=MAX_PRACTICES, description="the prohibited practices it names"
    )


class ComplaintReply(InputSchema):
    """The outcome of the handling (查处结果) and the reply to the complainant (答复); for a report, whether it was
    verified (经查实)."""

    version: int
    outcome: Body
    reply: Body | None = Field(default=None, description="the reply given (none for an anonymous complaint)")
    verified: bool | None = Field(default=None, description="reports: whether it was verified (经查实)")


class RewardPaid(InputSchema):
    version: int
    paid_on: PastDate
    reference: Annotated[str, Text(100, min_length=1)] | None = None


class ComplaintRead(OutputSchema):
    """A complaint as the caller may see it: the complainant is 「保密」 unless the caller handles it or is the
    county supervisor (`identity_visible`)."""

    id: uuid.UUID
    case_id: uuid.UUID
    case_number: str
    case_stage: str
    due_at: datetime | None
    assignee_id: uuid.UUID | None
    kind: ComplaintKind
    channel: ComplaintChannel
    received_at: datetime
    org_unit_code: str
    anonymous: bool
    identity_visible: bool
    complainant_name: str | None = Field(description="「保密」 for whom it is hidden; null when anonymous")
    complainant_contact: str | None
    summary: str
    content: str
    practices: list[str]
    flagged: bool
    outcome: str | None
    reply: str | None
    replied_at: datetime | None
    verified: bool | None
    reward_amount: Decimal | None
    reward_paid_on: date | None
    reward_reference: str | None
    version: int
