"""Request and response bodies of the information-query ledger API."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import Field

from backend.core.input import Code, MultilineText, PastDateTime, Text, UnitCode
from backend.core.schemas import InputSchema, OutputSchema

Short = Annotated[str, Text(100, min_length=1)]
Reason = Annotated[str, MultilineText(2000, min_length=2)]
# A purpose or a document shown, by its code (backend/info_queries/rules.py).
PurposeCode = Annotated[str, Code(r"^[a-z][a-z0-9_]{0,29}$", 30)]
DocumentCode = Annotated[str, Code(r"^[a-z][a-z0-9_]{0,39}$", 40)]


class InfoQueryCreate(InputSchema):
    """审核、告知、登记: the request as reviewed, the requester told and signing the application form."""

    org_unit_code: UnitCode = Field(description="the receiving unit (首接负责)")
    requested_at: PastDateTime | None = Field(default=None, description="with a time zone; defaults to now")
    purpose: PurposeCode = Field(
        description="vetting, official_business, justice, social_management, lawyer, relatives, newborn_name"
    )
    requester_name: Short
    requester_unit: Annotated[str, Text(200, min_length=1)] | None = None
    documents_seen: list[DocumentCode] = Field(max_length=20)
    application_signed: bool = Field(description="the requester signed the 《人口信息查询申请表》 after being told")
    subject_person_id: uuid.UUID | None = Field(default=None, description="the person asked about (not for counts)")
    subject_name: Annotated[str, Text(50, min_length=1)] | None = None
    subject_consent: bool = Field(default=False, description="relatives: the subject agreed")


class InfoQueryRefuse(InputSchema):
    version: int
    reason: Reason


class VersionBody(InputSchema):
    version: int


class InfoQueryRead(OutputSchema):
    id: uuid.UUID
    number: str
    org_unit_code: str
    requested_at: datetime
    state: str
    purpose: str
    purpose_label: str = ""
    requester_name: str | None
    requester_unit: str | None
    documents_seen: list[str]
    application_signed: bool
    subject_person_id: uuid.UUID | None
    subject_name: str | None
    subject_sex: str | None
    subject_consent: bool
    answer: dict[str, Any] | None = Field(description="only the fields the norm allows for the purpose")
    refusal_reason: str | None
    handled_by: str | None
    handled_at: datetime | None
    retain_until: date
    destroyed_at: datetime | None
    destroy_approved_by: str | None
    version: int
