"""Request and response bodies of the information-query ledger API."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import Field, StringConstraints

from backend.core.schemas import InputSchema, OutputSchema

UnitCode = Annotated[str, StringConstraints(pattern=r"^([0-9]{6}|[0-9]{9}|[0-9]{12})$")]
Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=2000)]


class InfoQueryCreate(InputSchema):
    """审核、告知、登记: the request as reviewed, the requester told and signing the application form."""

    org_unit_code: UnitCode = Field(description="the receiving unit (首接负责)")
    requested_at: datetime | None = Field(default=None, description="with a time zone; defaults to now")
    purpose: Annotated[str, StringConstraints(min_length=1, max_length=30)] = Field(
        description="vetting, official_business, justice, social_management, lawyer, relatives, newborn_name"
    )
    requester_name: Short
    requester_unit: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] | None = None
    documents_seen: list[Annotated[str, StringConstraints(min_length=1, max_length=40)]] = Field(max_length=20)
    application_signed: bool = Field(description="the requester signed the 《人口信息查询申请表》 after being told")
    subject_person_id: uuid.UUID | None = Field(default=None, description="the person asked about (not for counts)")
    subject_name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)] | None = None
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
