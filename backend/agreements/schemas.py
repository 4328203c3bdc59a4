"""Pydantic models of the agreements API."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from backend.core.input import AnyDate, Omittable, PastDate, Text, UnitCode
from backend.core.schemas import InputSchema
from backend.models import AgreementKind

Text100 = Annotated[str, Text(100, min_length=1)]
Title = Annotated[str, Text(200, min_length=1)]


class AgreementParty(InputSchema):
    role: Annotated[str, Text(40, min_length=1)] = Field(
        description="landlord 房东, employer 用工单位, woman 育龄妇女, county 县（区）, township 乡镇 ..."
    )
    name: Text100


class AgreementCreate(InputSchema):
    kind: AgreementKind
    title: Title
    parties: list[AgreementParty] = Field(min_length=2, max_length=10)
    template_name: Text100 | None = None
    signed_on: PastDate = Field(description="签订日期: today or earlier")
    valid_from: AnyDate
    valid_until: AnyDate | None = None
    person_id: uuid.UUID | None = None
    org_unit_code: UnitCode | None = None


class AgreementRenew(InputSchema):
    """The renewed agreement; a title or parties left out are the old ones (null is refused)."""

    title: Omittable[Title] = None
    parties: Omittable[list[AgreementParty]] = Field(default=None, min_length=2, max_length=10)
    template_name: Text100 | None = None
    signed_on: PastDate = Field(description="签订日期: today or earlier")
    valid_from: AnyDate
    valid_until: AnyDate | None = None


class AgreementRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: AgreementKind
    title: str
    parties: list[dict[str, Any]]
    template_name: str | None
    signed_on: date
    valid_from: date
    valid_until: date | None
    org_unit_code: str
    person_id: uuid.UUID | None
    renews_id: uuid.UUID | None
    signed_document_id: uuid.UUID | None
    version: int
    created_at: datetime
